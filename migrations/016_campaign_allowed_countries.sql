-- Countries outside the US and Canada a campaign may call (ISO 3166-1 alpha-2 codes, e.g. ["GB"]). The exchange
-- holds calling-hours rules for the US and Canada only; a number of any other country (including Caribbean NANP
-- countries) is refused as country_not_covered unless its campaign lists the country here, and then the exchange
-- applies no calling-hours rule to it: the operator answers for that country's rules.
ALTER TABLE campaigns ADD COLUMN allowed_countries jsonb NOT NULL DEFAULT '[]';
