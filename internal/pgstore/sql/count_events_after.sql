-- CountEventsAfter counts the events after the cursor ($1, $2), above the
-- frontier too: they are committed and still to come. Parameters:
-- $1 transaction_order bigint, $2 global_position bigint{{if .Scoped}},
-- $3 aggregate types text[] (only those are counted){{end}}. Columns: count bigint.
SELECT count(*)::bigint FROM {{.Events}}
WHERE (transaction_order, global_position) > ($1::bigint, $2::bigint)
{{- if .Scoped}}
  AND aggregate_type = ANY($3::text[])
{{- end}}
