-- wrk script for bench/load.sh: GET /healthz, the HTTP stack's own speed on
-- the same server, against which the gate's throughput is compared.
done = function(summary, latency, requests)
  io.write(string.format("healthz: %d requests in %.1f s = %.0f answers/s\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
  io.write(string.format("healthz: latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
