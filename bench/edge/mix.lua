-- A benign traffic mix for bench/edge (wrk -s): page views with query strings and cookies, form posts and
-- JSON API calls, as a shop's visitors send them. Every request must pass the CRS at paranoia 1 (the run
-- warns on any non-2xx), so the WAF rows measure inspection, not blocking.
--
-- Values change the way real traffic does: the browser headers are the same for everyone, each of 2 000
-- visitors keeps its own session cookie, and what visitors type or pick (search terms, page numbers, order
-- ids, addresses, review texts, quantities) is new on every request. A proxy that remembers what it saw
-- gets no more help here than it would from real visitors.
local n = 0
local threads = 0

-- Each wrk thread numbers its requests from its own offset, so threads do not send the same sequence.
setup = function(thread)
  thread:set("offset", threads * 1000000)
  threads = threads + 1
end

init = function()
  n = offset or 0
end

local words = { "blue", "red", "trail", "running", "leather", "winter", "summer", "kids", "wide", "light",
  "waterproof", "classic", "boots", "sandals", "socks", "laces", "insoles", "size", "black", "green" }
local streets = { "High Street", "Station Road", "Church Lane", "Mill Road", "Park Avenue", "Queen Street" }
local cities = { "London", "Leeds", "Bristol", "York", "Bath", "Cardiff", "Glasgow", "Norwich" }

local function word(k) return words[(k % #words) + 1] end

local function headers(visitor, extra)
  local h = {
    ["Host"] = "bench.localhost",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ["Accept"] = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    ["Accept-Language"] = "en-GB,en;q=0.7",
    ["Cookie"] = string.format("session=%08x%08x%08x; theme=dark; consent=analytics",
      visitor * 2654435761 % 4294967296, visitor * 40503 % 4294967296, visitor),
  }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local json = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }

-- One builder per kind of request; `k` is this request's number, `v` its visitor.
local kinds = {
  function(k, v) return "GET", "/", headers(v) end,
  function(k, v)
    return "GET", string.format("/products?category=%s&page=%d&sort=price-asc", word(k), k % 40 + 1), headers(v)
  end,
  function(k, v)
    return "GET", string.format("/search?q=%s+%s+shoes&size=%d&in_stock=1", word(k), word(k * 7), 36 + k % 12),
      headers(v)
  end,
  function(k, v) return "GET", "/static/app.3f9a1c.js", headers(v) end,
  function(k, v)
    return "GET", string.format("/api/orders/%d?include=items,shipping", 100000 + k),
      headers(v, { ["Accept"] = "application/json" })
  end,
  function(k, v)
    return "POST", "/login", headers(v, form),
      string.format("email=visitor%d%%40example.com&password=correct-horse-%d-staple&remember=1", v, k)
  end,
  function(k, v)
    return "POST", "/account/address", headers(v, form),
      string.format("name=Visitor+%d&street=%d+%s&city=%s&postcode=SW%d+%dAA&country=GB", v, k % 200 + 1,
        streets[k % #streets + 1]:gsub(" ", "+"), cities[k % #cities + 1], k % 20 + 1, k % 9 + 1)
  end,
  function(k, v)
    return "POST", "/api/orders", headers(v, json),
      string.format('{"items":[{"sku":"SHOE-%d-%s","qty":%d},{"sku":"SOCK-M","qty":%d}],"coupon":"WINTER%d",' ..
        '"note":"Leave it with the neighbour at number %d, please."}', 36 + k % 12, word(k):upper(), k % 3 + 1,
        k % 5 + 1, k % 30, k % 90 + 1)
  end,
  function(k, v)
    return "PUT", "/api/profile", headers(v, json),
      string.format('{"displayName":"Visitor %d","newsletter":%s,"preferences":{"currency":"GBP",' ..
        '"language":"en-GB","sizes":[%d,%d]}}', v, k % 2 == 0 and "true" or "false", 36 + k % 8, 37 + k % 8)
  end,
  function(k, v)
    return "POST", "/api/reviews", headers(v, json),
      string.format('{"product":"SHOE-42-%s","rating":%d,"title":"Great %s fit","text":"Comfortable from day ' ..
        'one; I ran %d km in them on Sunday and the %s ones are next."}', word(k):upper(), k % 5 + 1, word(k * 3),
        k % 25 + 1, word(k * 11))
  end,
}

request = function()
  n = n + 1
  local visitor = (n * 7919) % 2000
  local method, path, h, body = kinds[n % #kinds + 1](n, visitor)
  return wrk.format(method, path, h, body)
end
