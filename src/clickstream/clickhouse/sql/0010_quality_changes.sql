-- Video quality switches (from -> to) by device and country, per day, with the
-- direction: up or down by vertical resolution ("720p" -> 720, "4k" -> 2160);
-- "unknown" when a label carries no resolution (e.g. "auto").
CREATE VIEW IF NOT EXISTS ${database}.quality_changes ${on_cluster} AS
${raw_quality_changes}
