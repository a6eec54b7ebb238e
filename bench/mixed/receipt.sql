-- A receipt of one hot SKU: waiting orders are served and released in the same transaction.
\set c random(1, 2)
\set s random(1, 6)
\set l random(1, 2)
\set q random(1, 6)
SELECT backorder.receive('b' || :c, 'H' || :s, 'e' || :l, :q, 'PO');
