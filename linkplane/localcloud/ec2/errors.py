"""EC2 client errors with the codes AWS returns, built on moto's ``EC2ClientError``.

moto serialises any ``EC2ClientError`` raised inside a response method as an EC2 error body
with HTTP 400, so raising these from our handlers reaches boto3 as a ``ClientError`` with the
same ``Error.Code`` a real account would see.
"""

from __future__ import annotations

from moto.ec2.exceptions import EC2ClientError


def _error(code: str, message: str) -> Exception:
    error: Exception = EC2ClientError(code, message)
    return error


def tgw_not_found(tgw_id: str) -> Exception:
    # Also what a non-owner gets for a gateway that is not shared with it (AWS hides it).
    return _error(
        "InvalidTransitGatewayID.NotFound",
        f"Transit Gateway {tgw_id} was deleted or does not exist.",
    )


def attachment_not_found(attachment_id: str) -> Exception:
    return _error(
        "InvalidTransitGatewayAttachmentID.NotFound",
        f"Transit Gateway Attachment {attachment_id} was deleted or does not exist.",
    )


def route_table_not_found(route_table_id: str) -> Exception:
    # AWS reports TGW route tables a caller does not own with the generic route-table code.
    return _error(
        "InvalidRouteTableID.NotFound",
        f"The transitGatewayRouteTable ID '{route_table_id}' does not exist.",
    )


def incorrect_state(message: str) -> Exception:
    return _error("IncorrectState", message)


def already_associated(attachment_id: str) -> Exception:
    return _error(
        "Resource.AlreadyAssociated",
        f"Transit Gateway Attachment {attachment_id} is already associated to a route table.",
    )


def association_not_found(attachment_id: str, route_table_id: str) -> Exception:
    return _error(
        "InvalidAssociation.NotFound",
        f"Transit Gateway Attachment {attachment_id} is not associated with {route_table_id}.",
    )


def propagation_exists(attachment_id: str, route_table_id: str) -> Exception:
    return _error(
        "TransitGatewayRouteTablePropagation.Duplicate",
        f"Transit Gateway Attachment {attachment_id} already propagates to {route_table_id}.",
    )


def propagation_not_found(attachment_id: str, route_table_id: str) -> Exception:
    return _error(
        "InvalidRouteTablePropagation.NotFound",
        f"Transit Gateway Attachment {attachment_id} does not propagate to {route_table_id}.",
    )


def route_exists(cidr: str, route_table_id: str) -> Exception:
    return _error(
        "RouteAlreadyExists",
        f"Route {cidr} already exists in Transit Gateway Route Table {route_table_id}.",
    )


def route_not_found(cidr: str, route_table_id: str) -> Exception:
    return _error(
        "InvalidRoute.NotFound",
        f"No route to {cidr} in Transit Gateway Route Table {route_table_id}.",
    )


def invalid_parameter(message: str) -> Exception:
    return _error("InvalidParameterValue", message)


def missing_parameter(message: str) -> Exception:
    return _error("MissingParameter", message)


def duplicate_attachment(tgw_id: str, vpc_id: str) -> Exception:
    return _error(
        "DuplicateTransitGatewayAttachment",
        f"{tgw_id} has non-deleted Transit Gateway Attachments with same VPC ID {vpc_id}.",
    )


def unauthorized(message: str) -> Exception:
    return _error("UnauthorizedOperation", message)
