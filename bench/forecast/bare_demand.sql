-- The same rows, demand only (lines of orders not cancelled), as stockout_risk reads them.
SELECT sku, sum(qty) FROM backorder.order_line WHERE allocated > 0 OR shipped > 0 OR waiting GROUP BY sku;
