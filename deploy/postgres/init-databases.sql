-- Run once by the PostgreSQL image when its data volume is empty (compose.yaml): the image
-- creates the portal's database (POSTGRES_DB); the warehouse and the vault get their own, named
-- as the settings derive them from DATABASE_URL (<name>_warehouse, <name>_vault).
CREATE DATABASE eds_portal_warehouse;
CREATE DATABASE eds_portal_vault;
