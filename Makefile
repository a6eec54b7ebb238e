# pg_backorder — PGXS build.  `make && make install`, then `make test` / `make demo`
# (see README.md).  Honours PG_CONFIG like every PGXS extension.

EXTENSION    = pg_backorder
EXTVERSION   = 0.1
MODULE_big   = pg_backorder
OBJS = \
	src/pg_backorder.o \
	src/edit_lock.o \
	src/clock.o \
	src/spi_plans.o \
	src/guard.o \
	src/stock.o \
	src/stock_known.o \
	src/key_queue.o \
	src/queue.o \
	src/settle.o \
	src/deferred_settle.o \
	src/intake.o \
	src/ledger.o \
	src/order_ops.o \
	src/inbound.o \
	src/split.o \
	src/split_plan.o \
	src/split_apply.o \
	src/demand_summary.o \
	src/forecast_aggs.o \
	src/forecast.o \
	src/sla_clock.o

DATA_built   = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA         = $(filter-out $(DATA_built), $(wildcard sql/$(EXTENSION)--*--*.sql))

# pg_regress: readable walkthroughs in sql/*.sql (not the install scripts), outputs in expected/
REGRESS      = $(sort $(notdir $(basename $(filter-out sql/$(EXTENSION)--%, $(wildcard sql/*.sql)))))
REGRESS_OPTS = --load-extension=$(EXTENSION)

# isolation specs: test/specs/*.spec, outputs in test/expected/
ISOLATION      = $(sort $(notdir $(basename $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --load-extension=$(EXTENSION)

PG_CPPFLAGS  = -I$(srcdir)/src
SHLIB_LINK   =

EXTRA_CLEAN  = sql/$(EXTENSION)--$(EXTVERSION).sql

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The install script is assembled from sql/parts/ (one file per kind of object),
# in the order the numeric prefixes give.
sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/parts/*.sql))
	cat $^ > $@

# `make test` and `make demo` bring up their own throwaway cluster (test/run, demo/run).
.PHONY: test demo bench
test:
	bash test/run

demo:
	bash demo/run

bench:
	bash bench/run
