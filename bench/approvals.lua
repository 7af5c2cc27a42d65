-- wrk script for bench/load.sh --stop: GET /v1/approvals (the first page,
-- 100 approvals) as the principal whose token is in the environment
-- (INTERLOCK_LIST_TOKEN), in a loop.
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("INTERLOCK_LIST_TOKEN")

done = function(summary, latency, requests)
  io.write(string.format("listing: %d lists of approvals in %.1f s, p99 %.2f ms, errors status %d\n",
    summary.requests, summary.duration / 1e6, latency:percentile(99) / 1000,
    summary.errors.status))
end
