/*
 * split.c — split computation and split rules (issue 4; being written).
 *
 * split_rules_after_settle() is the engine's hook: settle.c calls it after
 * settling an order that stays held, with the order row locked.
 */
#include "postgres.h"

#include "pg_backorder.h"

void
split_rules_after_settle(const char *client_id, const char *order_id)
{
	/* no rules yet */
}
