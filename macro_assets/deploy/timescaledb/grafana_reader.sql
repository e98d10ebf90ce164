-- The read-only role Grafana's data source logs in as (psql variables: reader, password, owner). Grafana runs any
-- SQL a dashboard editor writes, so the role can read the warehouse tables and nothing else: SELECT on every table
-- the owner creates in public from now on (the migrations run later, at the app's first connect), no writes.
CREATE ROLE :"reader" LOGIN PASSWORD :'password';
GRANT USAGE ON SCHEMA public TO :"reader";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
