-- Where a streaming device resumes after a lost connection: its newest stored recorded_at.

/*
 * public.device_resume_point(p_device_id): the newest recorded_at stored for the device, flushed
 * or still staged, or null when it has none. telemetry-parse answers it to the device on GET
 * (device key auth), so a device whose streaming request broke off re-sends from there; frames it
 * re-sends that were stored already are dropped by the (device_id, recorded_at) key.
 *
 * Cost: telemetry's unique (device_id, recorded_at) index gives the maximum with one backward
 * index probe per partition; staging has no index by device, but it holds only the requests of
 * the last seconds, and only this device's rows are unpacked. service_role only.
 */
create function public.device_resume_point(p_device_id uuid)
returns timestamptz
language sql
stable
set search_path = ''
as $$
  select greatest(
    (select max(t.recorded_at) from telemetry.telemetry as t where t.device_id = p_device_id),
    (select max(coalesce(f.recorded_at, s.created_at))
     from telemetry.telemetry_staging as s
     cross join lateral unnest(s.frames::telemetry.frame_values[]) as f
     where s.device_id = p_device_id)
  )
$$;
comment on function public.device_resume_point(uuid) is
  'The newest recorded_at stored for a device (telemetry or staging), for a device resuming a stream. service_role only.';
grant execute on function public.device_resume_point(uuid) to service_role;
