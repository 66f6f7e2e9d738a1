"""Record types served by the record API, their fields and where each field is stored.

Field names follow the casing NetSuite uses per field (evidence table #10): the customer mixes
``companyName``/``entityId`` with lowercase ``isinactive``/``addressbook``/``overduebalance``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

FieldKind = Literal[
    "id", "string", "integer", "float", "boolean", "date", "datetime", "ref", "enum", "sublist"
]


@dataclass(frozen=True)
class Field:
    """One record field.

    Attributes:
        name: The record API field id (casing as NetSuite spells it).
        column: The SQL column storing it (``None`` for sublists).
        kind: Value type; drives validation, serialisation and q filtering.
        title: The UI label used in "Please enter value(s) for: …" errors.
        target: For ``ref`` fields, the referenced record type (or lookup table).
        required: Must be present on create and cannot be cleared.
        read_only: Ignored in request bodies.
    """

    name: str
    column: str | None
    kind: FieldKind
    title: str
    target: str | None = None
    required: bool = False
    read_only: bool = False
    filterable: bool = True


@dataclass(frozen=True)
class RecordType:
    """A record type: its table, discriminator and fields."""

    name: str
    table: str
    label: str
    permission: str
    fields: tuple[Field, ...]
    #: ``(column, value)`` restricting the table to this type (transactions, items).
    discriminator: tuple[str, str] | None = None
    #: ``tranId`` prefix for generated transaction numbers.
    number_prefix: str = ""
    by_lower: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_lower.update({f.name.lower(): f for f in self.fields})

    @property
    def is_transaction(self) -> bool:
        return self.table == "transaction"

    def field(self, name: str, case_insensitive: bool = True) -> Field | None:
        if case_insensitive:
            return self.by_lower.get(name.lower())
        for f in self.fields:
            if f.name == name:
                return f
        return None


def _f(name: str, column: str | None, kind: FieldKind, title: str, **kw: object) -> Field:
    return Field(name, column, kind, title, **kw)  # type: ignore[arg-type]


_ID = _f("id", "id", "id", "Internal ID", read_only=True)
_EXTERNAL = _f("externalId", "externalid", "string", "External ID")

CUSTOMER = RecordType(
    name="customer",
    table="customer",
    label="Customer",
    permission="Lists -> Customers",
    fields=(
        _ID,
        _f("entityId", "entityid", "string", "Customer ID", required=True),
        _f("companyName", "companyname", "string", "Company Name"),
        _f("isPerson", "isperson", "boolean", "Type"),
        _f("firstName", "firstname", "string", "First Name"),
        _f("lastName", "lastname", "string", "Last Name"),
        _f("email", "email", "string", "Email"),
        _f("phone", "phone", "string", "Phone"),
        _f("subsidiary", "subsidiary", "ref", "Primary Subsidiary", target="subsidiary", required=True),
        _f("currency", "currency", "ref", "Currency", target="currency"),
        _f("entityStatus", "entitystatus", "ref", "Status", target="customerStatus"),
        _f("comments", "comments", "string", "Comments"),
        _f("creditLimit", "creditlimit", "float", "Credit Limit"),
        _f("overduebalance", "overduebalance", "float", "Overdue Balance", read_only=True),
        _EXTERNAL,
        _f("dateCreated", "datecreated", "datetime", "Date Created", read_only=True),
        _f("lastModifiedDate", "lastmodifieddate", "datetime", "Last Modified Date", read_only=True),
        _f("isinactive", "isinactive", "boolean", "Inactive"),
        _f("addressbook", None, "sublist", "Address Book", filterable=False),
    ),
)

SUBSIDIARY = RecordType(
    name="subsidiary",
    table="subsidiary",
    label="Subsidiary",
    permission="Setup -> Subsidiaries",
    fields=(
        _ID,
        _f("name", "name", "string", "Name", required=True),
        _f("fullName", "fullname", "string", "Full Name", read_only=True),
        _f("parent", "parent", "ref", "Subsidiary Of", target="subsidiary"),
        _f("country", "country", "string", "Country"),
        _f("currency", "currency", "ref", "Currency", target="currency"),
        _f("isInactive", "isinactive", "boolean", "Inactive"),
        _f("isElimination", "iselimination", "boolean", "Elimination"),
        _EXTERNAL,
        _f("lastModifiedDate", "lastmodifieddate", "datetime", "Last Modified Date", read_only=True),
    ),
)

CURRENCY = RecordType(
    name="currency",
    table="currency",
    label="Currency",
    permission="Lists -> Currency",
    fields=(
        _ID,
        _f("name", "name", "string", "Name", required=True),
        _f("symbol", "symbol", "string", "ISO Code", required=True),
        _f("isBaseCurrency", "isbasecurrency", "boolean", "Base Currency", read_only=True),
        _f("isInactive", "isinactive", "boolean", "Inactive"),
        _f("exchangeRate", "exchangerate", "float", "Default Exchange Rate"),
        _EXTERNAL,
        _f("lastModifiedDate", "lastmodifieddate", "datetime", "Last Modified Date", read_only=True),
    ),
)


def _item(name: str, label: str, item_type: str) -> RecordType:
    return RecordType(
        name=name,
        table="item",
        label=label,
        permission="Lists -> Items",
        discriminator=("itemtype", item_type),
        fields=(
            _ID,
            _f("itemId", "itemid", "string", "Item Name/Number", required=True),
            _f("displayName", "displayname", "string", "Display Name/Code"),
            _f("salesDescription", "description", "string", "Sales Description"),
            _f("basePrice", "baseprice", "float", "Base Price"),
            _f("cost", "cost", "float", "Purchase Price"),
            _f("subsidiary", "subsidiary", "ref", "Subsidiary", target="subsidiary"),
            _f("isInactive", "isinactive", "boolean", "Inactive"),
            _EXTERNAL,
            _f("createdDate", "createddate", "datetime", "Date Created", read_only=True),
            _f("lastModifiedDate", "lastmodifieddate", "datetime", "Last Modified Date", read_only=True),
        ),
    )


INVENTORY_ITEM = _item("inventoryItem", "Inventory Item", "InvtPart")
NON_INVENTORY_ITEM = _item("nonInventorySaleItem", "Non-inventory Item for Sale", "NonInvtPart")
SERVICE_ITEM = _item("serviceItem", "Service Item for Sale", "Service")

#: Fields of an ``item`` sublist line.
LINE_FIELDS = (
    _f("line", "id", "integer", "Line", read_only=True),
    _f("item", "item", "ref", "Item", target="item", required=True),
    _f("quantity", "quantity", "float", "Quantity"),
    _f("rate", "rate", "float", "Rate"),
    _f("amount", "foreignamount", "float", "Amount"),
    _f("description", "memo", "string", "Description"),
)
LINE_BY_LOWER = {f.name.lower(): f for f in LINE_FIELDS}

_TX_COMMON = (
    _ID,
    _f("tranId", "tranid", "string", "Number"),
    _f("tranDate", "trandate", "date", "Date"),
    _f("entity", "entity", "ref", "Customer", target="customer", required=True),
    _f("subsidiary", "subsidiary", "ref", "Subsidiary", target="subsidiary"),
    _f("currency", "currency", "ref", "Currency", target="currency"),
    _f("exchangeRate", "exchangerate", "float", "Exchange Rate"),
    _f("status", "status", "enum", "Status", read_only=True),
    _f("memo", "memo", "string", "Memo"),
    _f("otherRefNum", "otherrefnum", "string", "PO #"),
    _f("subtotal", "foreigntotal", "float", "Subtotal", read_only=True),
    _f("taxTotal", "taxtotal", "float", "Tax", read_only=True),
    _f("total", "foreigntotal", "float", "Total", read_only=True),
    _EXTERNAL,
    _f("createdDate", "createddate", "datetime", "Date Created", read_only=True),
    _f("lastModifiedDate", "lastmodifieddate", "datetime", "Last Modified Date", read_only=True),
    _f("item", None, "sublist", "Items", filterable=False),
)

SALES_ORDER = RecordType(
    name="salesOrder",
    table="transaction",
    label="Sales Order",
    permission="Transactions -> Sales Order",
    discriminator=("type", "SalesOrd"),
    number_prefix="SO",
    fields=_TX_COMMON,
)

INVOICE = RecordType(
    name="invoice",
    table="transaction",
    label="Invoice",
    permission="Transactions -> Invoice",
    discriminator=("type", "CustInvc"),
    number_prefix="INV",
    fields=_TX_COMMON
    + (
        _f("createdFrom", "createdfrom", "ref", "Created From", target="salesOrder"),
        _f("dueDate", "duedate", "date", "Due Date"),
        _f("amountPaid", "amountpaid", "float", "Amount Paid", read_only=True),
        _f("amountRemaining", "amountremaining", "float", "Amount Due", read_only=True),
    ),
)

RECORD_TYPES: dict[str, RecordType] = {
    rt.name: rt
    for rt in (
        CUSTOMER,
        SUBSIDIARY,
        CURRENCY,
        INVENTORY_ITEM,
        NON_INVENTORY_ITEM,
        SERVICE_ITEM,
        SALES_ORDER,
        INVOICE,
    )
}
RECORD_TYPES_LOWER = {k.lower(): v for k, v in RECORD_TYPES.items()}

#: Lookup tables behind ``ref`` targets that are not record types here (no self link).
LOOKUP_TARGETS = {"customerStatus": ("entitystatus", "key", "name")}

#: Where a ref target's display name (``refName``) comes from: table, id column, SQL expression.
REF_NAME_SQL: dict[str, tuple[str, str, str]] = {
    "customer": ("customer", "id", "COALESCE(companyname, firstname || ' ' || lastname, entityid)"),
    "subsidiary": ("subsidiary", "id", "name"),
    "currency": ("currency", "id", "name"),
    "item": ("item", "id", "itemid"),
    "salesOrder": ('"transaction"', "id", "'Sales Order #' || tranid"),
    "invoice": ('"transaction"', "id", "'Invoice #' || tranid"),
    "customerStatus": ("entitystatus", "key", "name"),
}

#: Record type whose self link a ref to the target should carry (item refs use the concrete type).
ITEM_TYPE_RECORD = {"InvtPart": "inventoryItem", "NonInvtPart": "nonInventorySaleItem", "Service": "serviceItem"}
