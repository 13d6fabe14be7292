// Results: the ranked plans, filling in while the search runs, with sort, filters and the
// rejected configurations by reason.
import { Box, Text } from "ink";
import type { PlanResult } from "../../planner/index.js";
import { emptyLines, rejectionLine, resultsLayout, sortLine, tableView } from "./core/results.js";
import type { SearchProgress } from "./core/search-job.js";
import type { Session } from "./core/setup.js";
import type { Filters, SortKey } from "./core/state.js";
import { ACCENT } from "./theme.js";

export interface ResultsScreenProps {
  session: Session;
  search: SearchProgress;
  plans: PlanResult[];
  sort: SortKey;
  filters: Filters;
  cursor: number;
  width: number;
  height: number;
}

export function ResultsScreen({ session, search, plans, sort, filters, cursor, width, height }: ResultsScreenProps) {
  const layout = resultsLayout(session, search, width, height);
  const table = tableView(plans, cursor, layout.tableRows, undefined, undefined, width, layout.compiled, layout.every);
  const sortText = sortLine(sort, filters, plans.length, search.plans.length, table.position, width);
  return (
    <Box flexDirection="column" width={width} height={height} overflow="hidden">
      <Text bold wrap="truncate-end">
        {layout.request}
      </Text>
      {layout.engine.map((l, i) => (
        <Text key={`engine-${i}`} color="gray" wrap="truncate-end">
          {l}
        </Text>
      ))}
      {layout.eager.map((l, i) => (
        <Text key={`eager-${i}`} color="gray" wrap="truncate-end">
          {l}
        </Text>
      ))}
      <Text color={search.done ? "green" : "yellow"} wrap="truncate-end">
        {layout.status}
      </Text>
      <Text color="gray" wrap="truncate-end">
        {sortText}
      </Text>
      {plans.length > 0 ? (
        <>
          <Text bold underline wrap="truncate-end">
            {table.header}
          </Text>
          <Box flexDirection="column" height={layout.tableRows}>
            {table.rows.map((r) => (
              <Text key={r.index} inverse={r.selected} color={r.selected ? ACCENT : undefined} wrap="truncate-end">
                {r.text}
              </Text>
            ))}
          </Box>
        </>
      ) : (
        <Box flexDirection="column" height={layout.tableRows + 1}>
          {(search.plans.length > 0 ? ["No plan matches the filters (c clears them)."] : emptyLines(search, width)).map((l, i) => (
            <Text key={i} color={search.done && search.plans.length === 0 ? "red" : undefined} wrap="truncate-end">
              {l}
            </Text>
          ))}
        </Box>
      )}
      <Text color="gray" wrap="truncate-end">
        {rejectionLine(search.rejected, width)}
      </Text>
    </Box>
  );
}
