"""SMS, operator blacklists, quotas and connectivity resets through the unchanged emnify SDK.

Run with the SDK's own interpreter (see tests/test_emnify_sdk.py); prints JSON. Phase
``send`` sets the device up and sends an SMS; phase ``list`` reads the SMS back after the
test's simulated device has received it. The SDK has no quota methods, so quotas go
through its own request class (``BaseApiManager``), as an SDK user would extend it.
"""

import json
import os
import sys

from emnify import EMnify
from emnify import constants as c
from emnify.api_manager import BaseApiManager
from emnify.errors import ValidationErrorException

client = EMnify(app_token=os.environ["APP_TOKEN"])
devices = client.devices
out = {}


def quota_call(method, kind):
    class QuotaCall(BaseApiManager):
        request_url_prefix = "/v1/endpoint/{endpoint_id}/quota/" + kind
        request_method_name = method

    return QuotaCall()


def setup_and_send():
    sp, tp = int(os.environ["SP"]), int(os.environ["TP"])
    sim_id = client.sim.register_sim(bic="SDK2")[0].id
    new = devices.device_create_model(
        name="sms-device", service_profile={"id": sp}, tariff_profile={"id": tp},
        status=c.DeviceStatuses.ENABLED_DICT.value,
    )
    device_id = devices.create_device(device=new)
    # (The SDK's assign_sim(enable=True) enables before it links the SIM and fails itself.)
    client.sim.activate_sim(sim_id=sim_id)
    link = devices.device_update_model(sim={"id": sim_id})
    devices.update_device(device_id=device_id, device=link)
    devices.change_status(device_id, enable=True)  # created disabled: it had no SIM yet
    out["device_id"] = device_id
    sms = devices.sms_create_model(source_address="4912345", payload="open valve")
    out["sent"] = devices.send_sms(device=device_id, sms=sms)
    listed = devices.get_device_sms_list(device=device_id)
    out["sms_before"] = [(s.payload, s.status) for s in listed]

    devices.add_device_blacklist_operator(device_id, 2)
    try:
        devices.add_device_blacklist_operator(device_id, 2)
        out["duplicate"] = "accepted"
    except ValidationErrorException as exc:
        out["duplicate"] = str(exc)
    out["blacklist"] = [(o.id, o.name, o.country.name) for o in
                        devices.get_device_operator_blacklist(device_id)]
    devices.delete_device_blacklist_operator(device_id, 2)
    out["blacklist_after"] = list(devices.get_device_operator_blacklist(device_id))
    try:
        devices.delete_device_blacklist_operator(device_id, 2)
        out["missing"] = "accepted"
    except ValidationErrorException as exc:
        out["missing"] = str(exc)

    body = {"status": {"id": 1}, "volume": 25, "expiry_date": "2099-01-01 00:00:00",
            "action_on_exhaustion": {"id": 1}, "auto_refill": 0, "threshold_percentage": 10}
    path = {"endpoint_id": device_id}
    out["data_quota_set"] = quota_call("post", "data").call_api(client, body, path_params=path)
    out["data_quota"] = quota_call("get", "data").call_api(client, path_params=path)
    out["sms_quota_set"] = quota_call("post", "sms").call_api(client, body, path_params=path)
    out["sms_quota"] = quota_call("get", "sms").call_api(client, path_params=path)
    out["sms_quota_deleted"] = quota_call("delete", "sms").call_api(client, path_params=path)
    try:
        quota_call("get", "sms").call_api(client, path_params=path)
    except ValidationErrorException as exc:
        out["sms_quota_after"] = str(exc)

    out["reset_network"] = devices.reset_connectivity_network(device_id)
    out["reset_data"] = devices.reset_connectivity_data(device_id)
    out["connectivity"] = devices.get_device_connectivity_status(device_id).status.description
    out["events"] = [e.description for e in devices.get_device_events_list(device_id)]


def list_after_delivery():
    device_id = int(os.environ["DEVICE"])
    out["sms_after"] = [
        (s.payload, s.status, s.sms_type, s.msisdn, bool(s.delivery_date))
        for s in devices.get_device_sms_list(device=device_id)
    ]


if sys.argv[1] == "send":
    setup_and_send()
else:
    list_after_delivery()
print(json.dumps(out))
