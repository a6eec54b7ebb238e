-- The forecast of every SKU.
SELECT * FROM backorder.stockout_risk;
