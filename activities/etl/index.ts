/** The tasks of the `daily_etl` DAG (see dags/daily_etl.ts and README, "daily_etl"). */
export { auditDay } from './audit';
export { loadDimCustomer, loadDimDate, loadDimProduct } from './dimensions';
export { extractPartnerSales, extractShopTable } from './extract';
export { loadFactSales } from './fact-sales';
export { writeSilver } from './silver';
export { validatePartnerSales, validateShopSales } from './validate';
