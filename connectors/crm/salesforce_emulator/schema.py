"""The emulated org's metadata: sObject types, their fields, and ``describe`` replies built from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Field types whose values are numbers in JSON.
NUMERIC_TYPES = frozenset({"currency", "double", "percent", "int"})
#: Field types whose values are strings in JSON.
TEXT_TYPES = frozenset({"id", "string", "textarea", "picklist", "reference", "email", "phone", "url"})
_SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "currency": "xsd:double",
               "double": "xsd:double", "percent": "xsd:double", "int": "xsd:int", "date": "xsd:date",
               "datetime": "xsd:dateTime"}


@dataclass(frozen=True)
class Field:
    """One field of an sObject type.

    ``system`` fields are set by the org (Id, audit dates, IsDeleted) and can never be written.
    """

    name: str
    type: str
    label: str = ""
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    picklist: tuple[str, ...] = ()
    restricted: bool = False
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    system: bool = False
    calculated: bool = False
    precision: int = 0
    scale: int = 0

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    @property
    def required(self) -> bool:
        """Must be given on create (not nillable, no default, createable)."""
        return not self.nillable and self.createable and self.type != "boolean" and not self.system

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label or self.name.removesuffix("__c").replace("_", " "),
            "type": self.type,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"),
            "length": self.length,
            "precision": self.precision,
            "scale": self.scale,
            "nillable": self.nillable,
            "createable": self.createable and not self.system,
            "updateable": self.updateable and not self.system,
            "externalId": self.external_id,
            "unique": self.unique,
            "idLookup": self.external_id or self.type == "id",
            "custom": self.custom,
            "calculated": self.calculated,
            "defaultedOnCreate": self.system or self.type == "boolean",
            "filterable": True,
            "sortable": self.type != "textarea",
            "restrictedPicklist": self.restricted,
            "picklistValues": [
                {"active": True, "defaultValue": False, "label": value, "validFor": None, "value": value}
                for value in self.picklist
            ],
            "referenceTo": list(self.reference_to),
            "relationshipName": self.relationship_name,
        }


@dataclass
class SObjectType:
    """One sObject type: its name, key prefix (first three id characters) and fields by name."""

    name: str
    key_prefix: str
    label: str
    fields: dict[str, Field] = field(default_factory=dict)

    @property
    def custom(self) -> bool:
        return self.name.endswith("__c")

    def field(self, name: str) -> Field | None:
        """A field by name, in any letter case (SOQL and the REST API are case-insensitive)."""
        found = self.fields.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        for candidate in self.fields.values():
            if candidate.name.lower() == lowered:
                return candidate
        return None

    def relationship(self, name: str) -> Field | None:
        """The reference field whose relationship name is ``name`` (``Account`` for ``AccountId``)."""
        lowered = name.lower()
        for candidate in self.fields.values():
            if candidate.relationship_name and candidate.relationship_name.lower() == lowered:
                return candidate
        return None

    def urls(self, version: str) -> dict[str, str]:
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}

    def describe_summary(self, version: str) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "labelPlural": self.label + "s", "custom": self.custom,
            "keyPrefix": self.key_prefix, "createable": True, "updateable": True, "deletable": True,
            "queryable": True, "retrieveable": True, "searchable": True, "replicateable": True,
            "urls": self.urls(version),
        }

    def describe(self, version: str) -> dict[str, Any]:
        return {**self.describe_summary(version), "fields": [f.describe() for f in self.fields.values()]}


def _system_fields() -> list[Field]:
    user = ("User",)
    return [
        Field("Id", "id", "Record ID", 18, nillable=False, createable=False, updateable=False, system=True),
        Field("IsDeleted", "boolean", "Deleted", nillable=False, createable=False, updateable=False, system=True),
        Field("CreatedDate", "datetime", "Created Date", nillable=False, system=True),
        Field("CreatedById", "reference", "Created By ID", 18, nillable=False, system=True, reference_to=user,
              relationship_name="CreatedBy"),
        Field("LastModifiedDate", "datetime", "Last Modified Date", nillable=False, system=True),
        Field("LastModifiedById", "reference", "Last Modified By ID", 18, nillable=False, system=True,
              reference_to=user, relationship_name="LastModifiedBy"),
        Field("SystemModstamp", "datetime", "System Modstamp", nillable=False, system=True),
    ]


def _type(name: str, key_prefix: str, label: str, fields: list[Field], *, owned: bool = True) -> SObjectType:
    all_fields = _system_fields()
    if owned:
        all_fields.append(Field("OwnerId", "reference", "Owner ID", 18, nillable=False, reference_to=("User",),
                                relationship_name="Owner"))
    all_fields.extend(fields)
    return SObjectType(name, key_prefix, label, {f.name: f for f in all_fields})


def _money(name: str, label: str = "") -> Field:
    return Field(name, "currency", label, precision=18, scale=2)


INDUSTRIES = ("Agriculture", "Banking", "Construction", "Education", "Energy", "Healthcare", "Manufacturing",
              "Retail", "Technology", "Transportation")
ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other")
STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote", "Negotiation/Review",
          "Closed Won", "Closed Lost")
INVOICE_STATUSES = ("Open", "Paid In Full", "Pending Approval", "Voided")
SYNC_STATUSES = ("Pending", "Synced", "Failed")
CURRENCIES = ("USD", "EUR", "GBP", "CAD")


def build_types() -> dict[str, SObjectType]:
    """The sObject types of a fresh org, by name."""
    account = ("Account",)
    opportunity = ("Opportunity",)
    types = [
        _type("User", "005", "User", [
            Field("Username", "string", "Username", 80, nillable=False, unique=True),
            Field("FirstName", "string", "First Name", 40),
            Field("LastName", "string", "Last Name", 80, nillable=False),
            Field("Name", "string", "Full Name", 121, createable=False, updateable=False, calculated=True),
            Field("Email", "email", "Email", 128, nillable=False),
            Field("Alias", "string", "Alias", 8, nillable=False),
            Field("IsActive", "boolean", "Active", nillable=False),
        ], owned=False),
        _type("Account", "001", "Account", [
            Field("Name", "string", "Account Name", 255, nillable=False),
            Field("AccountNumber", "string", "Account Number", 40),
            Field("Type", "picklist", "Account Type", 255, picklist=ACCOUNT_TYPES),
            Field("Industry", "picklist", "Industry", 255, picklist=INDUSTRIES),
            Field("Phone", "phone", "Account Phone", 40),
            Field("Website", "url", "Website", 255),
            Field("BillingStreet", "textarea", "Billing Street", 255),
            Field("BillingCity", "string", "Billing City", 40),
            Field("BillingPostalCode", "string", "Billing Zip/Postal Code", 20),
            Field("BillingCountry", "string", "Billing Country", 80),
            Field("AnnualRevenue", "currency", "Annual Revenue", precision=18),
            Field("NumberOfEmployees", "int", "Employees", precision=8),
            Field("CurrencyIsoCode", "picklist", "Account Currency", 3, nillable=False, picklist=CURRENCIES,
                  restricted=True),
            Field("NetSuite_Id__c", "string", "NetSuite Id", 40, external_id=True),
            Field("NetSuite_Subsidiary_Id__c", "string", "NetSuite Subsidiary Id", 40),
            Field("Sync_Status__c", "picklist", "Sync Status", 255, picklist=SYNC_STATUSES, restricted=True),
            _money("Paid_Revenue__c", "Paid Revenue"),
            _money("Open_Balance__c", "Open Balance"),
            Field("Revenue_As_Of__c", "datetime", "Revenue As Of"),
            Field("Key_Account__c", "boolean", "Key Account", nillable=False),  # a checkbox: never null
        ]),
        _type("Contact", "003", "Contact", [
            Field("AccountId", "reference", "Account ID", 18, reference_to=account, relationship_name="Account"),
            Field("FirstName", "string", "First Name", 40),
            Field("LastName", "string", "Last Name", 80, nillable=False),
            Field("Name", "string", "Full Name", 121, createable=False, updateable=False, calculated=True),
            Field("Email", "email", "Email", 80),
            Field("Phone", "phone", "Business Phone", 40),
            Field("Title", "string", "Title", 128),
            Field("Birthdate", "date", "Birthdate"),
            Field("HasOptedOutOfEmail", "boolean", "Email Opt Out", nillable=False),
            Field("NetSuite_Id__c", "string", "NetSuite Id", 40, external_id=True),
        ]),
        _type("Opportunity", "006", "Opportunity", [
            Field("AccountId", "reference", "Account ID", 18, reference_to=account, relationship_name="Account"),
            Field("Name", "string", "Name", 120, nillable=False),
            Field("StageName", "picklist", "Stage", 255, nillable=False, picklist=STAGES, restricted=True),
            _money("Amount", "Amount"),
            Field("Probability", "percent", "Probability (%)", precision=3),
            Field("CloseDate", "date", "Close Date", nillable=False),
            Field("IsClosed", "boolean", "Closed", nillable=False, createable=False, updateable=False,
                  calculated=True),
            Field("IsWon", "boolean", "Won", nillable=False, createable=False, updateable=False, calculated=True),
            Field("CurrencyIsoCode", "picklist", "Opportunity Currency", 3, nillable=False, picklist=CURRENCIES,
                  restricted=True),
            Field("Description", "textarea", "Description", 32000),
            Field("NetSuite_Id__c", "string", "NetSuite Id", 40, external_id=True),
            Field("NetSuite_Order_Number__c", "string", "NetSuite Order Number", 40),
            Field("Invoice_Number__c", "string", "Invoice Number", 40),
            Field("Invoice_Status__c", "picklist", "Invoice Status", 255, picklist=INVOICE_STATUSES),
            _money("Invoice_Amount__c", "Invoice Amount"),
            Field("Invoice_Due_Date__c", "date", "Invoice Due Date"),
            _money("Amount_Remaining__c", "Amount Remaining"),
        ]),
        _type("OpportunityLineItem", "00k", "Opportunity Product", [
            Field("OpportunityId", "reference", "Opportunity ID", 18, nillable=False, updateable=False,
                  reference_to=opportunity, relationship_name="Opportunity"),
            Field("Name", "string", "Opportunity Product Name", 376, createable=False, updateable=False,
                  calculated=True),
            Field("ProductCode", "string", "Product Code", 255),
            Field("Description", "textarea", "Line Description", 255),
            Field("Quantity", "double", "Quantity", nillable=False, precision=12, scale=2),
            _money("UnitPrice", "Sales Price"),
            Field("TotalPrice", "currency", "Total Price", createable=False, updateable=False, calculated=True,
                  precision=18, scale=2),
            Field("ServiceDate", "date", "Date"),
            Field("NetSuite_Item_Id__c", "string", "NetSuite Item Id", 40),
        ], owned=False),
        _type("NetSuite_Invoice__c", "a0X", "NetSuite Invoice", [
            Field("Name", "string", "Invoice Number", 80, nillable=False),
            Field("Account__c", "reference", "Account", 18, reference_to=account, relationship_name="Account__r"),
            Field("Opportunity__c", "reference", "Opportunity", 18, reference_to=opportunity,
                  relationship_name="Opportunity__r"),
            Field("NetSuite_Id__c", "string", "NetSuite Id", 40, external_id=True, unique=True),
            Field("Status__c", "picklist", "Status", 255, picklist=INVOICE_STATUSES),
            _money("Total__c", "Total"),
            _money("Amount_Remaining__c", "Amount Remaining"),
            Field("Due_Date__c", "date", "Due Date"),
        ]),
    ]
    return {t.name: t for t in types}
