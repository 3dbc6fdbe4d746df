-- wrk script for bench/run: sends one kind of request, rotating API keys from a file, and
-- prints the figures as one JSON line that bench/run parses.
-- Arguments (after --): method path body|- keyfile|-
local keys = {}
local i = 0
local method, path, body, headers
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   method, path = args[1], args[2]
   if args[3] ~= "-" then body = args[3] end
   if args[4] ~= "-" then
      for line in io.lines(args[4]) do keys[#keys + 1] = line end
   end
   -- Each thread starts at a different key, so two threads do not send the same key at
   -- the same moment.
   i = ((tid or 1) - 1) * math.floor(#keys / 2)
   headers = {}
   for k, v in pairs(wrk.headers) do headers[k] = v end
   if body then headers["Content-Type"] = "application/json" end
end

-- A body with {{key}} gets the key after the one in x-api-key: verify's root key asks
-- about another key.
function request()
   local b = body
   if #keys > 0 then
      i = i % #keys + 1
      headers["x-api-key"] = keys[i]
      if b then b = b:gsub("{{key}}", keys[i % #keys + 1]) end
   end
   return wrk.format(method, path, headers, b)
end

-- The latency quantiles go out on a fine grid, so bench/run can merge the distributions
-- of several runs (rounds) into one.
function done(summary, latency, requests)
   local e = summary.errors
   local q = {}
   for p = 0.5, 99.5, 0.5 do q[#q + 1] = latency:percentile(p) end
   for _, p in ipairs({99.6, 99.7, 99.8, 99.9}) do q[#q + 1] = latency:percentile(p) end
   io.write(string.format(
      'BENCH {"requests":%d,"duration_us":%d,"non2xx":%d,"connect":%d,"read":%d,"write":%d,"timeout":%d,"min_us":%d,"max_us":%d,"quantiles_us":[%s]}\n',
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      latency.min, latency.max, table.concat(q, ",")))
end
