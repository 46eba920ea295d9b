-- Pandoc Lua filter of the offline HTML report (evaluation.report.render): accessible tables.
--
-- Each table is wrapped in a focusable region labelled with the table's caption (class
-- table-scroll in report.css), so that a wide table scrolls sideways inside its own box at
-- phone widths and a keyboard user can scroll it (WCAG 2.1: 1.4.10 reflow, 2.1.1 keyboard).
-- Header cells get scope="col"; the first column of the body becomes row headers
-- (<th scope="row">), since every table of the reports starts with the label of its row.

local FALLBACK = {da = "Tabel", en = "Table"}

local function label_of(tbl, language)
  local text = pandoc.utils.stringify(tbl.caption.long)
  if text ~= "" then
    return text
  end
  return FALLBACK[language] or FALLBACK.da
end

local function accessible_table(tbl, language)
  for _, row in ipairs(tbl.head.rows) do
    for _, cell in ipairs(row.cells) do
      cell.attributes.scope = "col"
    end
  end
  for _, body in ipairs(tbl.bodies) do
    body.row_head_columns = 1
    for _, row in ipairs(body.body) do
      if #row.cells > 0 then
        row.cells[1].attributes.scope = "row"
      end
    end
  end
  -- a list of pairs, not a map: a map's order is random in Lua, and the same input must give the same bytes
  local attributes = {{"role", "region"}, {"tabindex", "0"}, {"aria-label", label_of(tbl, language)}}
  return pandoc.Div({tbl}, pandoc.Attr("", {"table-scroll"}, attributes))
end

function Pandoc(doc)
  local language = doc.meta.lang and pandoc.utils.stringify(doc.meta.lang):sub(1, 2) or "da"
  return doc:walk({Table = function(tbl) return accessible_table(tbl, language) end})
end
