-- wrk script for bench/load.sh: POST /v1/decisions as the principal whose
-- token is in the environment (INTERLOCK_TOKEN), a dev patch that is allowed.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("INTERLOCK_TOKEN")
wrk.body = [[{"actor":{"type":"human","id":"alice"},
"change":{"type":"code","environment":"dev","service":"api","version":"1.4.1","previous_version":"1.4.0"},
"checks":{"tests_passed":true,"security_scan":{"passed":true}}}]]

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("load: %d requests in %.1f s = %.0f decisions/s\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("load: latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("load: errors connect %d read %d write %d timeout %d status %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
end
