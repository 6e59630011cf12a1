-- Signed webhook deliveries for wrk (benchmarks/run.py). Each thread sends its share of
-- the file's lines in order, "<Stripe-Signature>\t<JSON body>", for wrk's duration;
-- a thread that runs out starts its share again (duplicates, as Stripe may send).
-- done() prints how many distinct lines were sent, for the benchmark to check.

local made = 0
local threads = {}

function setup(thread)
  thread:set("thread_number", made)
  made = made + 1
  threads[#threads + 1] = thread
end

function init(args)
  local path, thread_count = args[1], tonumber(args[2])
  deliveries = {}
  sent = 0
  local line_number = 0
  for line in io.lines(path) do
    if line_number % thread_count == thread_number then
      local signature, body = line:match("^([^\t]+)\t(.+)$")
      local headers = {
        ["Stripe-Signature"] = signature,
        ["Content-Type"] = "application/json",
        ["X-Forwarded-Proto"] = "https",
      }
      deliveries[#deliveries + 1] = wrk.format("POST", nil, headers, body)
    end
    line_number = line_number + 1
  end
  share = #deliveries
end

function request()
  sent = sent + 1
  return deliveries[(sent - 1) % share + 1]
end

function done(summary, latency, requests)
  local distinct, wrapped = 0, "no"
  for _, thread in ipairs(threads) do
    local thread_sent, thread_share = thread:get("sent"), thread:get("share")
    distinct = distinct + math.min(thread_sent, thread_share)
    if thread_sent > thread_share then
      wrapped = "yes"
    end
  end
  io.write(string.format("distinct deliveries sent: %d, wrapped: %s\n", distinct, wrapped))
end
