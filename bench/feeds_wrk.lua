-- wrk script for bench/feeds_load.py: each request asks for a random feed of many.
--   wrk ... -s bench/feeds_wrk.lua URL -- MODE FILE
-- FILE: one feed a line, "path<TAB>etag<TAB>last-modified".
-- MODE: 304 (If-None-Match with the feed's ETag), full (no condition), mixed (70 %
-- If-None-Match, 20 % If-Modified-Since, 10 % plain, as calendar apps poll), since (an
-- If-Modified-Since every server answers with 304: for a static file server).
-- Each feed is polled from an address of its own (X-Forwarded-For, which the server trusts
-- from 127.0.0.1 as from a TLS proxy), as subscribers' phones are: the server's limit on
-- unknown links then stops only the one still polling a rotated link, not everyone.
-- At the end one line "STATUS code=count ..." per thread, so errors cannot hide.

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local feeds = {}
local mode = "304"
counts = {}  -- global: done() reads it from each thread

function init(args)
   mode = args[1] or "304"
   for line in io.lines(args[2]) do
      local path, etag, modified = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
      local n = #feeds + 1
      local address = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
      table.insert(feeds, {path = path, etag = etag, modified = modified, address = address})
   end
   math.randomseed(os.time() + tonumber(tostring(feeds):match("0x(%x+)"), 16) % 100000)
end

function request()
   local feed = feeds[math.random(#feeds)]
   local headers = {["X-Forwarded-For"] = feed.address}
   local style = mode
   if mode == "mixed" then
      local r = math.random()
      if r < 0.7 then style = "304" elseif r < 0.9 then style = "ims" else style = "full" end
   end
   if style == "304" then
      headers["If-None-Match"] = feed.etag
   elseif style == "ims" then
      headers["If-Modified-Since"] = feed.modified
   elseif style == "since" then
      headers["If-Modified-Since"] = "Fri, 01 Jan 2100 00:00:00 GMT"
   end
   return wrk.format("GET", feed.path, headers)
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
   local line = string.format("LATENCY p50=%.2f p95=%.2f p99=%.2f max=%.2f",
      latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000)
   print(line)
   for _, thread in ipairs(threads) do
      local parts = {}
      for status, n in pairs(thread:get("counts")) do
         table.insert(parts, string.format("%d=%d", status, n))
      end
      print("STATUS " .. table.concat(parts, " "))
   end
end
