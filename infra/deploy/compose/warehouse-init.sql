-- Runs once, on the warehouse server's first start: the source (OLTP) database beside the
-- warehouse. Sluice's migrations create the warehouse's schemas; `sluice demo seed` fills `shop`.
CREATE DATABASE shop OWNER sluice;
