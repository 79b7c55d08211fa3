-- A few products so that `docker compose up` has a catalog to recommend from.
INSERT INTO storefront.products
  (product_id, title, category, attributes, stock_quantity, in_stock)
VALUES
  ('tee-navy-001', 'Classic crew-neck tee', 'women/tops/t-shirts',
   '{"color": "navy blue", "material": "cotton", "sleeve_length": "short"}', 42, true),
  ('dress-red-002', 'Wrap midi dress', 'women/dresses/midi',
   '{"color": "red", "material": "viscose", "pattern": "floral"}', 0, false),
  ('jacket-denim-003', 'Denim trucker jacket', 'men/outerwear/jackets',
   '{"color": "light blue", "material": "denim"}', NULL, true)
ON CONFLICT (product_id) DO NOTHING;
