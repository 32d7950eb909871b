-- The warehouse database is created by the image (POSTGRES_DB); Airflow's metadata gets its own.
create database airflow;
