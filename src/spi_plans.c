/*
 * spi_plans.c — cached SPI plans, small accessors for SPI results, the
 * arrays of keys the statements take, and array arguments of the functions.
 *
 * Each statement the engine runs is prepared once per backend (SPI_prepare +
 * SPI_keepplan) and kept in a static SPIPlanPtr next to the code that uses it.
 * The plan cache revalidates kept plans by itself when the schema changes,
 * and engine_run() pins search_path, so a kept plan is never re-planned just
 * because callers use different search paths.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "pg_backorder.h"

static int
run_plan_with(SPIPlanPtr *slot, int cursor_options, const char *sql, int nargs,
			  const Oid *argtypes, Datum *values, const char *nulls, long tcount)
{
	int			rc;

	if (*slot == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes, cursor_options);

		if (plan == NULL)
			elog(ERROR, "pg_backorder: SPI_prepare failed (%s): %s",
				 SPI_result_code_string(SPI_result), sql);
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "pg_backorder: SPI_keepplan failed");
		*slot = plan;
	}

	rc = SPI_execute_plan(*slot, values, nulls, false, tcount);
	if (rc < 0)
		elog(ERROR, "pg_backorder: SPI_execute_plan failed (%s): %s",
			 SPI_result_code_string(rc), sql);
	return rc;
}

/*
 * Generic plans: our statements are index lookups whose best plan does not
 * depend on the values, and re-planning per call would cost more than the
 * statement.
 */
int
run_plan(SPIPlanPtr *slot, const char *sql, int nargs, const Oid *argtypes,
		 Datum *values, const char *nulls, long tcount)
{
	return run_plan_with(slot, CURSOR_OPT_GENERIC_PLAN, sql, nargs, argtypes, values, nulls, tcount);
}

/*
 * A statement over arrays of n items (a batch of orders or lines).  A
 * generic plan assumes ten items and joins by nested loop; for a large batch
 * that is quadratic where the arrays are also filters, so above a few dozen
 * items the statement is planned for its actual arrays, which costs a
 * fraction of a millisecond once per batch.  slots[0] keeps the generic
 * plan, slots[1] the one re-planned per call.
 *
 * A batch is a few thousand rows looked up by key in tables that grow with
 * the backlog (a receipt releasing 10,000 of 1,000,000 waiting orders).  At
 * the default random_page_cost the planner prefers to read the whole table
 * and hash it, so the receipt's cost would grow with the backlog.  The rows
 * a batch probes are the ones its transaction is working on, and the index
 * pages above them are hot, so the batch is planned with a random page
 * priced like the cached read it is: one index probe per key.
 */
int
run_batch_plan(SPIPlanPtr *slots, int n_items, const char *sql, int nargs, const Oid *argtypes,
			   Datum *values, const char *nulls, long tcount)
{
	int			guc_level;
	int			rc;

	if (n_items <= 32)
		return run_plan_with(&slots[0], CURSOR_OPT_GENERIC_PLAN, sql, nargs, argtypes,
							 values, nulls, tcount);
	/* An error unwinds the setting with the (sub)transaction. */
	guc_level = NewGUCNestLevel();
	(void) set_config_option("random_page_cost", "1.1", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	rc = run_plan_with(&slots[1], CURSOR_OPT_CUSTOM_PLAN, sql, nargs, argtypes,
					   values, nulls, tcount);
	AtEOXact_GUC(true, guc_level);
	return rc;
}

bool
spi_isnull(int row, int col)
{
	bool		isnull;

	(void) SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	return isnull;
}

char *
spi_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

int64
spi_int64(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	Oid			type = SPI_gettypeid(SPI_tuptable->tupdesc, col);

	if (isnull)
		return 0;
	switch (type)
	{
		case INT8OID:
			return DatumGetInt64(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT2OID:
			return DatumGetInt16(d);
		case NUMERICOID:
			return DatumGetInt64(DirectFunctionCall1(numeric_int8, d));
		default:
			elog(ERROR, "pg_backorder: unexpected integer type %u", type);
	}
	return 0;					/* keep compiler quiet */
}

bool
spi_bool(int row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

Datum
text_datum(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

Datum
text_array_datum(char **items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = text_datum(items[i]);
	return PointerGetDatum(construct_array(d, n, TEXTOID, -1, false, TYPALIGN_INT));
}

Datum
int8_array_datum(int64 *items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int64GetDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

Datum
int4_array_datum(int32 *items, int n)
{
	Datum	   *d = palloc(sizeof(Datum) * (n > 0 ? n : 1));
	int			i;

	for (i = 0; i < n; i++)
		d[i] = Int32GetDatum(items[i]);
	return PointerGetDatum(construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
}

/* Sorts strings into byte order (the order bsearch with pg_qsort_strcmp needs) and drops duplicates. */
int
sort_unique_strings(char **items, int n)
{
	int			i,
				out = 0;

	if (n > 1)
		qsort(items, n, sizeof(char *), pg_qsort_strcmp);
	for (i = 0; i < n; i++)
		if (out == 0 || strcmp(items[out - 1], items[i]) != 0)
			items[out++] = items[i];
	return out;
}

/*
 * The elements of the array argument `argno`, one-dimensional and without
 * NULLs, or an error: 22004 for a NULL array or element, 2202E for more than
 * one dimension.  `name` is the argument's name, `what` and `example` end
 * the hints ("Pass an array of <what>, such as <example>."), `each` is the
 * hint for a NULL element.
 */
Datum *
array_arg(FunctionCallInfo fcinfo, int argno, Oid elemtype, const char *name,
		  const char *what, const char *example, const char *each, int *n)
{
	ArrayType  *array;
	Datum	   *elems;
	bool	   *nulls;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	int			i;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name),
				 errhint("Pass an array of %s, such as %s.", what, example)));
	array = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", name),
				 errhint("Pass a plain list of %s, such as %s.", what, example)));
	get_typlenbyvalalign(elemtype, &elmlen, &elmbyval, &elmalign);
	deconstruct_array(array, elemtype, elmlen, elmbyval, elmalign, &elems, &nulls, n);
	for (i = 0; i < *n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain null (element %d)", name, i + 1),
					 errhint("%s", each)));
	return elems;
}
