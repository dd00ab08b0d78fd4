"""Run with the emnify SDK's own interpreter (see tests/test_emnify_sdk.py); prints JSON."""

import json
import os

from emnify import EMnify
from emnify import constants as c

client = EMnify(app_token=os.environ["APP_TOKEN"])
sp, tp = int(os.environ["SP"]), int(os.environ["TP"])
devices, sims = client.devices, client.sim
out = {}

new = devices.device_create_model(
    name="sdk-device", service_profile={"id": sp}, tariff_profile={"id": tp},
    status=c.DeviceStatuses.ENABLED_DICT.value,
)
device_id = devices.create_device(device=new)
out["ip"] = devices.retrieve_device(device_id).ip_address
devices.update_device(device_id=device_id, device=devices.device_update_model(name="renamed"))
out["renamed"] = devices.retrieve_device(device_id).name
flt = devices.get_device_filter_model(name="renamed")
out["filtered"] = [d.name for d in devices.get_devices_list(filter_model=flt)]

registered = sims.register_sim(bic="SDK1")
out["registered"] = [s.status.id for s in registered]
sim_id = registered[0].id
out["sim_id"] = sim_id
sims.suspend_sim(sim_id=sim_id)
out["sim_after_suspend"] = sims.retrieve_sim(sim_id=sim_id).status.id
sims.activate_sim(sim_id=sim_id)
out["sim_after_activate"] = sims.retrieve_sim(sim_id=sim_id).status.id

devices.update_device(device_id=device_id, device=devices.device_update_model(sim={"id": sim_id}))
out["linked_sim"] = devices.retrieve_device(device_id).sim.id
devices.change_status(device_id, disable=True)
d = devices.retrieve_device(device_id)
out["disabled"] = {"device": int(d.status.id), "sim": d.sim.status.id}
devices.change_status(device_id, enable=True)
d = devices.retrieve_device(device_id)
out["enabled"] = {"device": int(d.status.id), "sim": d.sim.status.id}
out["events"] = [e.event_type.description for e in devices.get_device_events_list(device_id)]
out["operators"] = len(list(client.operator.get_operators()))

devices.delete_device(device_id)  # releases the SIM first, as the SDK does
out["after_delete"] = [d.id for d in devices.get_devices_list()]
out["free_sims"] = [s.id for s in sims.get_sim_list(without_device=True)]
print(json.dumps(out))
