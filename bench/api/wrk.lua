-- wrk script of bench/api.sh. Every request is formatted once, in init, so
-- that each request costs wrk the same for every server.
--
--   wrk ... -s wrk.lua URL -- get TEMPLATE VALUES_FILE
--       GET TEMPLATE with "{}" replaced by each line of VALUES_FILE in turn
--       (the file holds the fixed-seed list that bench/api.sh wrote); each
--       wrk thread starts at its own place in the list.
--   wrk ... -s wrk.lua URL -- post PATH BODY_FILE
--       POST the JSON in BODY_FILE to PATH, again and again.

local thread_count = 0

function setup(thread)
    thread:set("thread_index", thread_count)
    thread_count = thread_count + 1
end

local requests = {}
local count = 0
local next_index = 1

local function read_file(path)
    local file = assert(io.open(path, "rb"))
    local text = file:read("*a")
    file:close()
    return text
end

function init(args)
    local mode = args[1]
    if mode == "get" then
        local template = args[2]
        for value in io.lines(args[3]) do
            if value ~= "" then
                local path = template:gsub("{}", function() return value end)
                count = count + 1
                requests[count] = wrk.format("GET", path)
            end
        end
    elseif mode == "post" then
        local headers = { ["Content-Type"] = "application/json" }
        count = 1
        requests[1] = wrk.format("POST", args[2], headers, read_file(args[3]))
    else
        error("wrk.lua: mode must be get or post, not " .. tostring(mode))
    end
    assert(count > 0, "wrk.lua: no request to send")
    -- thread_index is set by setup(); spread the threads over the list
    local index = tonumber(thread_index) or 0
    next_index = (index * 7919) % count + 1
end

function request()
    local req = requests[next_index]
    next_index = next_index % count + 1
    return req
end
