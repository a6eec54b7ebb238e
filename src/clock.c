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

TimestampTz
engine_now(void)
{
	const char *pinned = GetConfigOption("backorder.now", true, false);

	if (pinned == NULL || pinned[0] == '\0')
		return GetCurrentTransactionStartTimestamp();

	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
												   CStringGetDatum(pinned),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
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
