-- The bare aggregate over the same rows: order lines, summed per SKU.
SELECT sku, sum(qty) FROM backorder.order_line GROUP BY sku;
