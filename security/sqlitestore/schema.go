package sqlitestore

// schema is the store's migrations, component "warden". Append to it;
// never edit a step that has shipped. Times are Unix milliseconds; a
// strike's zero time is NULL.
var schema = []string{
	// 1
	`CREATE TABLE warden_revocations (
		seq   INTEGER PRIMARY KEY AUTOINCREMENT,
		id    TEXT    NOT NULL UNIQUE,
		until INTEGER NOT NULL
	);
	CREATE INDEX warden_revocations_until ON warden_revocations (until);
	CREATE TABLE warden_families (
		family     TEXT    PRIMARY KEY,
		subject    TEXT    NOT NULL,
		live_token TEXT    NOT NULL,
		expires_at INTEGER NOT NULL,
		ended      INTEGER NOT NULL DEFAULT 0
	);
	CREATE INDEX warden_families_subject ON warden_families (subject);
	CREATE INDEX warden_families_expires_at ON warden_families (expires_at);
	CREATE TABLE warden_strikes (
		key   TEXT    PRIMARY KEY,
		n     INTEGER NOT NULL,
		last  INTEGER,
		until INTEGER
	);
	CREATE TABLE warden_settings (
		name  TEXT PRIMARY KEY,
		value BLOB NOT NULL
	);`,

	// 2: what a refresh grace window needs (security.FamilyState): the
	// token that the last rotation spent and when. Families from before
	// it read as never rotated since the epoch, so no grace applies to
	// them; the defaults also serve inserts that do not name the columns.
	`ALTER TABLE warden_families ADD COLUMN prev_token TEXT NOT NULL DEFAULT '';
	ALTER TABLE warden_families ADD COLUMN rotated_at INTEGER NOT NULL DEFAULT 0;`,
}
