/*
 * clock.c — the engine's one clock.
 *
 * Every timestamp the engine writes or decides on comes from here: the
 * transaction start time, unless the session pins a time with
 * SET backorder.now = '...'.  Pinning makes tests and replays exact.
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_now);

/*
 * The pinned text is parsed once and cached: statements call backorder.now()
 * for every row they write.  (The cache holds the text it was parsed from;
 * a new SET is a new text.  TimeZone does not change the instant.)
 */
TimestampTz
engine_now(void)
{
	static char cached_text[128] = "";
	static TimestampTz cached_value = 0;
	const char *pinned = GetConfigOption("backorder.now", true, false);

	if (pinned == NULL || pinned[0] == '\0')
		return GetCurrentTransactionStartTimestamp();
	if (strcmp(pinned, cached_text) == 0)
		return cached_value;

	cached_value = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
														   CStringGetDatum(pinned),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));
	strlcpy(cached_text, pinned, sizeof(cached_text));
	return cached_value;
}

Datum
engine_now_datum(void)
{
	return TimestampTzGetDatum(engine_now());
}

/*
 * backorder.now() — SQL access to the same clock.
 */
Datum
backorder_now(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(engine_now());
}
