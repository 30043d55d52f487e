-- The index that serves telemetry-query's default order (created_at, newest first) for one
-- device, so a page costs O(limit) however long the device's history is.
--
-- recorded_at is the index's last column because every frame of one ingest request shares its
-- created_at: (device_id, created_at, recorded_at) is unique (the dedup key is
-- (device_id, recorded_at)), so a keyset cursor (created_at, recorded_at) resumes inside the
-- index without re-reading a request's frames. recorded_at order needs no index of its own: the
-- unique dedup index (device_id, recorded_at) serves it.
--
-- Plan on 1,000,000 frames of one device beside 10,000,000 of another (ANALYZEd):
--   select * from public.read_telemetry_page(p_device_id => $1)   -- created_at desc, limit 100
--   Limit -> Merge Append -> Index Scan Backward using telemetry_p2026_11_device_id_created_at_..
--            (one per monthly partition, Index Cond: device_id = d.id)
--
-- Every flushed frame pays for one more btree entry; the flush cost it adds is measured in the
-- README (Queries that stay flat).
create index idx_telemetry_by_device_id_and_created_at
  on telemetry.telemetry (device_id, created_at, recorded_at);
