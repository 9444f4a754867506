import { auditDay, extractPartnerSales, extractShopTable, loadDimCustomer, loadDimDate, loadDimProduct, loadFactSales, validatePartnerSales, validateShopSales, writeSilver } from '../activities/etl';
import { dag } from 'sluice/sdk';

/**
 * The nightly load of the star schema. Each run loads one UTC day (its data interval): the shop's
 * orders and items, the customers and products they need, and the partners' landing files go to
 * bronze Parquet and staging; layered validation quarantines every rejected record in
 * ops.exceptions; valid records go to silver Parquet and the star schema; the audit enforces
 * records in = loaded + quarantined. Every step replaces the day, so a rerun changes nothing.
 * The tables and silver prefixes it writes are its `outlets`: a DAG scheduled on them
 * (`schedule: { assets: [...] }`) runs for each day once this DAG has loaded it.
 */
export default dag(
  'daily_etl',
  {
    schedule: '0 0 * * *',
    description: 'Shop database and partner files → bronze → silver → star schema, with quarantine and a conservation audit.',
    tags: ['etl', 'warehouse'],
    retries: 3,
    retryDelay: '10s',
  },
  ({ task }) => {
    const orders = task(extractShopTable, { table: 'orders' }, { id: 'extractOrders' });
    const items = task(extractShopTable, { table: 'order_items' }, { id: 'extractOrderItems' });
    const customers = task(extractShopTable, { table: 'customers' }, { id: 'extractCustomers' });
    const products = task(extractShopTable, { table: 'products' }, { id: 'extractProducts' });
    const partner = task(extractPartnerSales, {});

    const dimDate = task(loadDimDate, {}, { outlets: ['warehouse.dim_date'] });
    const dimCustomer = task(loadDimCustomer, { customers }, { outlets: ['warehouse.dim_customer'] });
    const dimProduct = task(loadDimProduct, { products }, { outlets: ['warehouse.dim_product'] });

    const shop = task(validateShopSales, { orders, items }).after(dimCustomer, dimProduct);
    const partnerChecked = task(validatePartnerSales, { extracted: partner }).after(dimProduct);

    const silver = [
      task(writeSilver, { validated: shop.field('orders') }, { id: 'writeSilverOrders', outlets: ['lake:silver/orders'] }),
      task(writeSilver, { validated: shop.field('items') }, { id: 'writeSilverOrderItems', outlets: ['lake:silver/order_items'] }),
      task(writeSilver, { validated: partnerChecked }, { id: 'writeSilverPartnerSales', outlets: ['lake:silver/partner_sales'] }),
    ];
    const facts = task(loadFactSales, { orders: shop.field('orders'), items: shop.field('items'), partner: partnerChecked }, { outlets: ['warehouse.fact_sales'] }).after(dimDate);

    task(auditDay, { extracted: [orders, items, customers, products, partner], silver, facts });
  },
);
