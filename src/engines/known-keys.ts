// Configuration keys the readers know (ds_config.json, torchtitan), so that a setting can be told
// apart as unknown (a typo, another release's name) or as known but not about the layout. Written
// from the same sources as the test fixtures (test/export/fixtures/*.txt); names only.

/** ds_config.json keys, nested with '.' (docs/_pages/config-json.md @00376da4; runtime/constants.py
 *  @088be892; runtime/zero/config.py @03dc2b92; runtime/activation_checkpointing/config.py; the
 *  sections runtime/config.py DeepSpeedConfig._initialize_params reads @ v0.16.0: elasticity,
 *  compression_training, curriculum_learning, pipeline, use_data_before_expert_parallelism,
 *  weight_quantization, timers, nebula). */
export const DEEPSPEED_KEYS = new Set(
  `
  train_batch_size train_micro_batch_size_per_gpu gradient_accumulation_steps managed_gradient_accumulation
  optimizer optimizer.type optimizer.params scheduler scheduler.type scheduler.params
  zero_allow_untested_optimizer zero_force_ds_cpu_optimizer communication_data_type gradient_allreduce_op
  prescale_gradients gradient_predivide_factor sparse_gradients fp32_allreduce disable_allgather
  seq_parallel_comm_data_type fp16 fp16.enabled fp16.auto_cast fp16.loss_scale fp16.initial_scale_power
  fp16.loss_scale_window fp16.hysteresis fp16.consecutive_hysteresis fp16.min_loss_scale
  fp16.fp16_master_weights_and_grads fp16.fused_mode bf16 bf16.enabled bf16.bf16_master_weights_and_grads
  bf16.bf16_optimizer_states bf16.immediate_grad_update bfloat16 bfloat16.enabled amp amp.enabled
  torch_autocast torch_autocast.enabled torch_autocast.dtype torch_autocast.lower_precision_safe_modules
  gradient_clipping zero_optimization zero_optimization.stage zero_optimization.contiguous_gradients
  zero_optimization.reduce_scatter zero_optimization.reduce_bucket_size
  zero_optimization.use_multi_rank_bucket_allreduce zero_optimization.allgather_partitions
  zero_optimization.allgather_bucket_size zero_optimization.overlap_comm
  zero_optimization.load_from_fp32_weights zero_optimization.elastic_checkpoint
  zero_optimization.offload_param zero_optimization.offload_optimizer zero_optimization.sub_group_size
  zero_optimization.cpu_offload_param zero_optimization.cpu_offload_use_pin_memory
  zero_optimization.cpu_offload zero_optimization.stage3_prefetch_bucket_size
  zero_optimization.stage3_param_persistence_threshold zero_optimization.stage3_model_persistence_threshold
  zero_optimization.stage3_max_live_parameters zero_optimization.stage3_max_reuse_distance
  zero_optimization.stage3_gather_16bit_weights_on_model_save
  zero_optimization.stage3_module_granularity_threshold
  zero_optimization.stage3_use_all_reduce_for_fetch_params
  zero_optimization.stage3_gather_fp16_weights_on_model_save zero_optimization.ignore_unused_parameters
  zero_optimization.legacy_stage1 zero_optimization.round_robin_gradients
  zero_optimization.zero_hpz_partition_size zero_optimization.zero_quantized_weights
  zero_optimization.zero_quantized_nontrainable_weights zero_optimization.zero_quantized_gradients
  zero_optimization.zeropp_loco_param zero_optimization.mics_shard_size
  zero_optimization.mics_hierarchical_params_gather zero_optimization.memory_efficient_linear
  zero_optimization.pipeline_loading_checkpoint zero_optimization.override_module_apply
  zero_optimization.compute_grad_norm zero_optimization.parameter_alignment
  zero_optimization.log_trace_cache_warnings zero_optimization.save_muon_momentum_buffer_in_memory
  zero_optimization.prefetch_bucket_size zero_optimization.param_persistence_threshold
  zero_optimization.model_persistence_threshold zero_optimization.max_live_parameters
  zero_optimization.max_reuse_distance zero_optimization.gather_16bit_weights_on_model_save
  zero_optimization.module_granularity_threshold zero_optimization.use_all_reduce_for_fetch_params
  activation_checkpointing activation_checkpointing.partition_activations
  activation_checkpointing.number_checkpoints activation_checkpointing.contiguous_memory_optimization
  activation_checkpointing.synchronize_checkpoint_boundary activation_checkpointing.profile
  activation_checkpointing.cpu_checkpointing tensor_parallel tensor_parallel.autotp_size
  tensor_parallel.preset_model tensor_parallel.tp_overlap_comm tensor_parallel.vocab_parallel_lm_head
  tensor_parallel.partition_config expert_parallel hybrid_engine steps_per_print wall_clock_breakdown
  memory_breakdown dump_state tensorboard wandb comet csv_monitor comms_logger flops_profiler aio autotuning
  data_efficiency checkpoint data_types compile disable_python_gc graph_harvesting eigenvalue
  progressive_layer_drop sparse_attention vocabulary_size dataloader_drop_last
  elasticity compression_training curriculum_learning pipeline use_data_before_expert_parallelism
  weight_quantization timers nebula
  `
    .trim()
    .split(/\s+/),
);

/** torchtitan TOML section.key: v0.2.0's (torchtitan/config/job_config.py @ v0.2.0, recorded in
 *  test/export/fixtures/torchtitan-0.2.txt) and the older names still read (@000204a4's, among them
 *  pipeline_parallel_split_points; 2024's training.batch_size and
 *  float8.enable_float8_linear with its scaling_type_* keys, torchtitan/config_manager.py @f6a9daa13). */
export const TORCHTITAN_02_KEYS = new Set(
  `
  job.config_file job.dump_folder job.description job.use_for_integration_test job.print_args
  profiling.enable_profiling profiling.save_traces_folder profiling.profile_freq
  profiling.enable_memory_snapshot profiling.save_memory_snapshot_folder metrics.log_freq
  metrics.enable_tensorboard metrics.disable_color_printing metrics.save_tb_folder metrics.save_for_all_ranks
  metrics.enable_wandb model.name model.flavor model.tokenizer_path model.converters
  model.print_after_conversion optimizer.name optimizer.lr optimizer.beta1 optimizer.beta2 optimizer.eps
  optimizer.weight_decay optimizer.implementation optimizer.early_step_in_backward lr_scheduler.warmup_steps
  lr_scheduler.decay_ratio lr_scheduler.decay_type lr_scheduler.lr_min training.dataset training.dataset_path
  training.local_batch_size training.global_batch_size training.seq_len training.max_norm training.steps
  training.enable_cpu_offload training.mixed_precision_param training.mixed_precision_reduce training.compile training.batch_size
  training.gc_freq training.gc_debug training.seed training.deterministic
  parallelism.data_parallel_replicate_degree parallelism.enable_compiled_autograd
  parallelism.data_parallel_shard_degree parallelism.fsdp_reshard_after_forward
  parallelism.tensor_parallel_degree parallelism.disable_loss_parallel
  parallelism.enable_async_tensor_parallel parallelism.pipeline_parallel_degree
  parallelism.pipeline_parallel_split_points parallelism.pipeline_parallel_layers_per_stage
  parallelism.pipeline_parallel_schedule parallelism.pipeline_parallel_schedule_csv
  parallelism.pipeline_parallel_microbatch_size parallelism.context_parallel_degree
  parallelism.context_parallel_rotate_method parallelism.expert_parallel_degree checkpoint.enable_checkpoint
  checkpoint.folder checkpoint.initial_load_path checkpoint.initial_load_model_only checkpoint.interval
  checkpoint.last_save_model_only checkpoint.export_dtype checkpoint.create_seed_checkpoint
  checkpoint.async_mode checkpoint.keep_latest_k checkpoint.load_step checkpoint.exclude_from_loading
  checkpoint.enable_first_step_checkpoint checkpoint.last_save_in_hf activation_checkpoint.mode
  activation_checkpoint.selective_ac_option activation_checkpoint.per_op_sac_force_recompute_mm_shapes_by_fqns
  float8.enable_fsdp_float8_all_gather float8.precompute_float8_dynamic_scale_for_fsdp
  float8.force_recompute_fp8_weight_in_bwd float8.recipe_name float8.filter_fqns float8.emulate
  float8.moe_fqns_prototype mx.mxfp8_dim1_cast_kernel_choice mx.recipe_name mx.filter_fqns
  quantize.linear.float8.enable_fsdp_float8_all_gather quantize.linear.float8.precompute_float8_dynamic_scale_for_fsdp
  quantize.linear.float8.recipe_name quantize.linear.float8.filter_fqns quantize.linear.float8.emulate
  quantize.grouped_mm.float8.fqns checkpoint.enable checkpoint.enable_ft_dataloader_checkpoints
  checkpoint.initial_load_in_hf checkpoint.initial_load_in_hf_quantized checkpoint.last_save_in_hf
  validation.enable validation.dataset validation.dataset_path validation.local_batch_size
  validation.seq_len validation.freq validation.steps model.hf_assets_path job.print_config
  parallelism.expert_tensor_parallel_degree parallelism.pipeline_parallel_expert_parallel_overlap
  comm.init_timeout_seconds comm.train_timeout_seconds comm.trace_buf_size comm.save_traces_folder
  memory_estimation.enabled memory_estimation.disable_fake_mode fault_tolerance.enable
  fault_tolerance.process_group fault_tolerance.process_group_timeout_ms fault_tolerance.replica_id
  fault_tolerance.group_size fault_tolerance.min_replica_size fault_tolerance.semi_sync_method
  fault_tolerance.sync_steps fault_tolerance.should_quantize fault_tolerance.fragment_sync_delay
  fault_tolerance.fragment_update_alpha experimental.custom_import experimental.custom_args_module
  validation.enabled validation.dataset validation.dataset_path validation.local_batch_size validation.seq_len
  validation.freq validation.steps
  job.custom_config_module profiling.profiler_active profiling.profiler_warmup lr_scheduler.min_lr_factor
  training.dtype training.debug_moe_force_load_balance parallelism.module_fqns_per_model_part
  parallelism.pipeline_parallel_first_stage_less_layers parallelism.pipeline_parallel_last_stage_less_layers
  checkpoint.load_only activation_checkpoint.early_stop activation_checkpoint.memory_budget
  activation_checkpoint.visualize_memory_budget_pareto compile.enable compile.components compile.backend
  quantize.linear.mx.mxfp8_dim1_cast_kernel_choice quantize.linear.mx.recipe_name quantize.linear.mx.filter_fqns
  quantize.grouped_mm.mx.recipe_name quantize.grouped_mm.mx.fqns comm.save_traces_file_prefix
  memory_estimation.enable float8.enable_float8_linear float8.scaling_type_input float8.scaling_type_weight
  float8.scaling_type_grad_output
  `
    .trim()
    .split(/\s+/),
);

/** torchtitan main --section.key overrides (torchtitan/config/configs.py @0014ac2c). */
export const TORCHTITAN_MAIN_KEYS = new Set(
  `
  training.local_batch_size training.global_batch_size training.seq_len training.max_norm training.steps
  training.enable_cpu_offload training.dtype training.mixed_precision_param training.mixed_precision_reduce
  training.gc_freq training.gc_debug parallelism.data_parallel_replicate_degree
  parallelism.data_parallel_shard_degree parallelism.fsdp_reshard_after_forward
  parallelism.enable_fsdp_symm_mem parallelism.tensor_parallel_degree parallelism.disable_loss_parallel
  parallelism.enable_async_tensor_parallel parallelism.enable_sequence_parallel parallelism.full_dtensor
  parallelism.pipeline_parallel_degree parallelism.module_fqns_per_model_part
  parallelism.pipeline_parallel_first_stage_less_layers parallelism.pipeline_parallel_last_stage_less_layers
  parallelism.pipeline_parallel_layers_per_stage parallelism.pipeline_parallel_schedule
  parallelism.pipeline_parallel_schedule_csv parallelism.pipeline_parallel_microbatch_size
  parallelism.context_parallel_degree parallelism.context_parallel_load_balancer
  parallelism.context_parallel_rotate_method parallelism.expert_parallel_degree activation_checkpoint.mode
  activation_checkpoint.per_op_sac_force_recompute_mm_shapes_by_fqns activation_checkpoint.early_stop
  activation_checkpoint.memory_budget activation_checkpoint.visualize_memory_budget_pareto
  activation_checkpoint.preserve_rng_state activation_checkpoint.determinism_check activation_checkpoint.debug
  compile.enable compile.components compile.backend comm.init_timeout_seconds comm.train_timeout_seconds
  comm.trace_buf_size comm.save_traces_folder comm.save_traces_file_prefix comm.mode debug.seed
  debug.deterministic debug.deterministic_warn_only debug.moe_force_load_balance debug.detect_anomaly
  debug.batch_invariant debug.print_config debug.save_config_file
  `
    .trim()
    .split(/\s+/),
);
