-- Replays a file of precomputed requests, each once per run (unique ids), for wrk 4.
-- Each line of $BENCH_BODIES: content-type TAB header-name TAB header-value TAB body.
-- Signatures are computed in Python beforehand (LuaJIT has no HMAC). Thread k of n sends
-- lines k, k+n, k+2n, ...; when a thread runs out it starts again and counts `wrapped`
-- (the ids repeat from then on, so a run that wraps is flagged by bench/wrk_suite.py).
-- A response whose status is not 2xx or whose body lacks $BENCH_EXPECT counts as `bad`.
local threads = {}
local count = 0

function setup(thread)
   thread:set("id", count)
   count = count + 1
   table.insert(threads, thread)
end

function init(args)
   local n = tonumber(os.getenv("BENCH_THREADS") or "1")
   expect = os.getenv("BENCH_EXPECT") or ""
   requests = {}
   local i = 0
   for line in io.lines(os.getenv("BENCH_BODIES")) do
      if i % n == id then
         local ctype, name, value, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
         local headers = { ["Content-Type"] = ctype }
         if name ~= "" then
            headers[name] = value
         end
         requests[#requests + 1] = wrk.format("POST", nil, headers, body)
      end
      i = i + 1
   end
   index = 0
   wrapped = 0
   bad = 0
   sample = ""
end

function request()
   index = index + 1
   if index > #requests then
      index = 1
      wrapped = wrapped + 1
   end
   return requests[index]
end

function response(status, headers, body)
   if status < 200 or status > 299 or (expect ~= "" and not body:find(expect, 1, true)) then
      bad = bad + 1
      if sample == "" then
         sample = status .. " " .. body:sub(1, 200)
      end
   end
end

function done(summary, latency, requests)
   local wrapped_total, bad_total, sample_any = 0, 0, ""
   for _, thread in ipairs(threads) do
      wrapped_total = wrapped_total + thread:get("wrapped")
      bad_total = bad_total + thread:get("bad")
      if sample_any == "" then
         sample_any = thread:get("sample")
      end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, '
         .. '"p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, "connect": %d, '
         .. '"read": %d, "write": %d, "status": %d, "timeout": %d, "wrapped": %d, "bad": %d, '
         .. '"sample": "%s"}\n',
      summary.requests, summary.duration, summary.bytes, latency:percentile(50),
      latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.status, e.timeout, wrapped_total, bad_total,
      (sample_any:gsub('[%c"\\]', " "))))
end
