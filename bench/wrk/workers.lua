-- Counts the responses each server worker process answered (the bench settings' X-Bench-Worker header),
-- so a window whose keep-alive connections all landed on one worker can be told apart and measured again.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  answered = {}
end

function response(status, headers, body)
  local worker = headers["X-Bench-Worker"]
  if worker then
    answered[worker] = (answered[worker] or 0) + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for worker, count in pairs(thread:get("answered")) do
      total[worker] = (total[worker] or 0) + count
    end
  end
  for worker, count in pairs(total) do
    io.write(string.format("worker %s answered %d\n", worker, count))
  end
end
