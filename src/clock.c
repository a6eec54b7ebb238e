/*
 * clock.c — the engine's one clock.
 *
 * Every timestamp the engine writes or decides on comes from here: the
 * transaction start time, unless the session pins a time with
 * SET backorder.now = '...'.  Pinning makes tests and replays exact.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/parallel.h"
#include "access/xact.h"
#include "fmgr.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "pg_backorder.h"

PG_FUNCTION_INFO_V1(backorder_now);

#define CLOCK_HINT "Pin the clock with a time such as '2010-12-05 17:00+00', or set it to '' for transaction time."

/*
 * GUC check hook of backorder.now: a pinned time must be a finite timestamp,
 * refused at SET rather than at the engine's next write.  The engine writes
 * its clock into events, holds and the ledger; an infinite or unreadable
 * time there would break every view that computes an age.  Parsed without
 * raising (a check hook reports through GUC_check_err*), as timestamptz_in
 * would parse it.
 */
bool
check_backorder_now(char **newval, void **extra, GucSource source)
{
	const char *str = *newval;
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf,
				dtype,
				tz = 0,
				dterr;
	struct pg_tm tm;
	fsec_t		fsec;
	TimestampTz result;
#if PG_VERSION_NUM >= 160000
	DateTimeErrorExtra dt_extra;
#endif

	if (str == NULL || str[0] == '\0')
		return true;			/* not pinned: transaction time */

	/*
	 * Check only values a session gives (its connection options, role and
	 * database settings, SET).  A parallel worker restores its leader's
	 * settings before the time zone abbreviations are loaded (reading "Z"
	 * then would crash it), and the leader checked the value already; a
	 * value from the configuration file is read before a session exists.
	 * Whatever is not checked here, engine_now() parses with a clear error.
	 */
	if (InitializingParallelWorker || IsParallelWorker() || source < PGC_S_GLOBAL ||
		session_timezone == NULL)
		return true;
	if (strlen(str) >= MAXDATELEN)
		dterr = DTERR_BAD_FORMAT;
	else
		dterr = ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype, MAXDATEFIELDS, &nf);
#if PG_VERSION_NUM < 160000
	/* PostgreSQL 15's DecodeDateTime raises (not returns) an unknown zone name: look first */
	for (int i = 0; dterr == 0 && i < nf; i++)
		if (ftype[i] == DTK_DATE && isalpha((unsigned char) field[i][0]) &&
			strchr(field[i], '/') != NULL && pg_tzset(field[i]) == NULL)
			dterr = DTERR_BAD_FORMAT;
#endif
	if (dterr == 0)
#if PG_VERSION_NUM >= 160000
		dterr = DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz, &dt_extra);
#else
		dterr = DecodeDateTime(field, ftype, nf, &dtype, &tm, &fsec, &tz);
#endif
	if (dterr != 0 || (dtype == DTK_DATE && tm2timestamp(&tm, fsec, &tz, &result) != 0))
	{
		GUC_check_errdetail("\"%s\" is not a time PostgreSQL can read.", str);
		GUC_check_errhint(CLOCK_HINT);
		return false;
	}
	if (dtype == DTK_DATE && (tm.tm_year < 1900 || tm.tm_year > 9999))
	{
		GUC_check_errdetail("The engine's clock must be a time between the years 1900 and 9999, not \"%s\".", str);
		GUC_check_errhint(CLOCK_HINT);
		return false;
	}
	if (dtype != DTK_DATE && dtype != DTK_EPOCH)
	{
		GUC_check_errdetail("The engine's clock must be a finite time, not \"%s\".", str);
		GUC_check_errhint(CLOCK_HINT);
		return false;
	}
	return true;
}

/*
 * A value SET before the library was loaded is a placeholder's, checked only
 * when _PG_init defines the setting; PostgreSQL then drops a refused one with
 * a WARNING, and the clock would silently be transaction time.  So the
 * refused text is kept and the clock refuses to run until the session sets
 * the clock again (any SET or RESET, through the assign hook).
 */
static char *refused_placeholder = NULL;

void
clock_note_placeholder(const char *before_define)
{
	const char *after = GetConfigOption("backorder.now", true, false);

	if (before_define != NULL && before_define[0] != '\0' &&
		(after == NULL || strcmp(after, before_define) != 0))
		refused_placeholder = MemoryContextStrdup(TopMemoryContext, before_define);
}

void
assign_backorder_now(const char *newval, void *extra)
{
	if (refused_placeholder != NULL)
	{
		pfree(refused_placeholder);
		refused_placeholder = NULL;
	}
}

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

	if (refused_placeholder != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backorder.now = '%s' was refused", refused_placeholder),
				 errdetail("It was set before pg_backorder was loaded in this session, and is not a finite time between the years 1900 and 9999."),
				 errhint("SET backorder.now to a time such as '2010-12-05 17:00+00', or RESET it for transaction time.")));
	if (pinned == NULL || pinned[0] == '\0')
		return GetCurrentTransactionStartTimestamp();
	if (strcmp(pinned, cached_text) == 0)
		return cached_value;

	cached_value = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
														   CStringGetDatum(pinned),
														   ObjectIdGetDatum(InvalidOid),
														   Int32GetDatum(-1)));
	/* a value the check hook did not see (postgresql.conf, ALTER SYSTEM) */
	if (TIMESTAMP_NOT_FINITE(cached_value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backorder.now must be a finite time, not \"%s\"", pinned),
				 errhint(CLOCK_HINT)));
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
