-- newsbeam SQL kit for DuckDB: views over a run's output folder, and questions analysts ask of it.
--
-- From Python (sets the path, and gives a table that has no files yet, e.g. `rejected` after a
-- clean run, an empty view of the right columns instead of an error):
--
--     from reporting.kit import connect, questions
--     con = connect("output")
--     con.sql(questions()["co_occurrence"]).show()
--
--     python -m reporting.kit --output output            # runs every question below and prints it
--
-- From the DuckDB CLI (every table must have at least one file there):
--
--     SET VARIABLE newsbeam_output = 'output';
--     .read sql/newsbeam.sql
--
-- Times are UTC. "Now" in the questions is the variable `newsbeam_now` when set
-- (SET VARIABLE newsbeam_now = now();), otherwise the latest published_at in the output, so
-- the answers over an old batch are about that batch, and are the same every time they are run.
--
-- Each block starts with `-- view: NAME` or `-- question: NAME` and holds one statement.

-- view: articles
CREATE OR REPLACE VIEW articles AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/articles/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: entity_mentions
CREATE OR REPLACE VIEW entity_mentions AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/entity_mentions/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: alerts
-- One row per rule that fired on an article, with its evidence sentence and offsets into articles.body.
CREATE OR REPLACE VIEW alerts AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/alerts/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: stories
-- Each run writes the state of every story it touched: several rows per story_id over runs.
CREATE OR REPLACE VIEW stories AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/stories/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: story_alerts
CREATE OR REPLACE VIEW story_alerts AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/story_alerts/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: story_alert_events
-- Every version of every story alert: new, then each change of status, sources or articles.
CREATE OR REPLACE VIEW story_alert_events AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/story_alert_events/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: duplicates
CREATE OR REPLACE VIEW duplicates AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/duplicates/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: rejected
CREATE OR REPLACE VIEW rejected AS
SELECT * FROM read_parquet(getvariable('newsbeam_output') || '/rejected/*/*.parquet', hive_partitioning = true, union_by_name = true);

-- view: current_stories
-- The latest state of each story.
CREATE OR REPLACE VIEW current_stories AS
SELECT * EXCLUDE (dt) FROM stories
QUALIFY row_number() OVER (PARTITION BY story_id ORDER BY last_seen DESC, article_count DESC, dt DESC) = 1;

-- view: current_story_alerts
-- The one current alert per (rule, story): its latest version, with the story's title.
CREATE OR REPLACE VIEW current_story_alerts AS
SELECT a.* EXCLUDE (dt), s.title AS story_title, s.sources AS story_sources, s.languages AS story_languages
FROM story_alerts AS a LEFT JOIN current_stories AS s USING (story_id)
QUALIFY row_number() OVER (PARTITION BY a.story_alert_id ORDER BY a.version DESC) = 1;

-- view: entity_counts
-- Mentions and articles per entity per event-time window of published_at (15 minutes by default,
-- GDELT's update interval; the pipeline's --window_s). A stream writes one row per window and
-- entity for each micro-batch that added to it; this view adds them up.
CREATE OR REPLACE VIEW entity_counts AS
SELECT window_start, window_end, entity_id,
       min(name) AS name, min(type) AS type,
       sum(mentions) AS mentions, sum(articles) AS articles
FROM read_parquet(getvariable('newsbeam_output') || '/entity_counts/*/*.parquet', hive_partitioning = true, union_by_name = true)
GROUP BY window_start, window_end, entity_id;

-- question: stories_gaining_sources_last_hour
-- Which stories gained sources in the last hour: sources whose first article in the story was
-- published in the hour before now. An article without a known source counts as its own source.
WITH now_ AS (
    SELECT coalesce(getvariable('newsbeam_now')::TIMESTAMPTZ, max(published_at)) AS t FROM articles
), firsts AS (
    SELECT story_id, coalesce(source, 'unknown:' || article_id) AS source, min(published_at) AS first_at
    FROM articles GROUP BY ALL
)
SELECT f.story_id, s.title,
       count(*) FILTER (WHERE f.first_at > now_.t - INTERVAL 1 HOUR) AS new_sources,
       count(*) AS all_sources,
       list(f.source ORDER BY f.source) FILTER (WHERE f.first_at > now_.t - INTERVAL 1 HOUR) AS new
FROM firsts AS f CROSS JOIN now_ LEFT JOIN current_stories AS s USING (story_id)
GROUP BY ALL
HAVING new_sources > 0
ORDER BY new_sources DESC, f.story_id;

-- question: alert_status_changes
-- Story alerts whose status moved (reported -> announced -> scheduled, or to denied/cancelled),
-- with the status before and after and when.
SELECT story_alert_id, rule_id, title, version,
       lag(status) OVER w AS status_before, status AS status_after, last_updated
FROM story_alert_events
WINDOW w AS (PARTITION BY story_alert_id ORDER BY version)
QUALIFY change = 'status'
ORDER BY last_updated, story_alert_id, version;

-- question: co_occurrence
-- Who appears with whom: pairs of people, organizations and places named in the same articles.
WITH e AS (
    SELECT DISTINCT article_id, entity_id, canonical_name AS name
    FROM entity_mentions WHERE type IN ('PERSON', 'ORG', 'GPE', 'LOC', 'NORP')
)
SELECT a.name AS entity, b.name AS appears_with, count(*) AS articles, a.entity_id, b.entity_id AS with_id
FROM e AS a JOIN e AS b ON a.article_id = b.article_id AND a.entity_id < b.entity_id
GROUP BY ALL
ORDER BY articles DESC, entity, appears_with
LIMIT 25;

-- question: rejected_by_reason
-- Inputs that did not become articles, by stage and reason, with an example.
SELECT stage, error_type, count(*) AS inputs, sum(original_size) AS bytes,
       min(input_uri || coalesce(':' || input_line, '')) AS example, any_value(message ORDER BY input_uri) AS message
FROM rejected
GROUP BY stage, error_type
ORDER BY inputs DESC, stage, error_type;

-- question: events_due_next_14_days
-- Current story alerts whose event starts within two weeks of now: summits, visits, elections ahead.
WITH now_ AS (
    SELECT coalesce(getvariable('newsbeam_now')::TIMESTAMPTZ, max(published_at)) AS t FROM articles
)
SELECT event_start, event_end, rule_id, status, story_title, location_name,
       list_sort(list_transform(actors, lambda x: x.name)) AS actors, article_count
FROM current_story_alerts CROSS JOIN now_
WHERE event_start BETWEEN CAST(now_.t AS DATE) AND CAST(now_.t AS DATE) + 14
ORDER BY event_start, rule_id, story_title;

-- question: top_entities_by_day
-- The five most-mentioned entities per day, from entity_counts.
WITH daily AS (
    SELECT CAST(window_start AS DATE) AS day, entity_id, name, type, sum(mentions) AS n_mentions, sum(articles) AS n_articles
    FROM entity_counts
    GROUP BY ALL
)
SELECT day, name, type, n_mentions AS mentions, n_articles AS articles
FROM daily
QUALIFY row_number() OVER (PARTITION BY day ORDER BY n_mentions DESC, name, entity_id) <= 5
ORDER BY day, mentions DESC, name;

-- question: story_sources
-- How each story grew: articles and distinct sources per day.
SELECT a.story_id, s.title, CAST(a.published_at AS DATE) AS day, count(*) AS articles,
       list(DISTINCT a.source ORDER BY a.source) FILTER (WHERE a.source IS NOT NULL) AS sources
FROM articles AS a LEFT JOIN current_stories AS s USING (story_id)
GROUP BY ALL
ORDER BY a.story_id, day;
