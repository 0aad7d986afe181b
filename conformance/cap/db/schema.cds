// Opcenter-style entity sets, as mixplane's `opcenter` profile describes them
// (docs/opcenter-profile.md): every entity has `Id` (a GUID), `NId` (its natural key) and
// `ModifiedOn` (the change feed's key); foreign keys are `{Entity}_Id`.
namespace mixplane.opcenter;

entity WorkOrder {
  key Id           : UUID;
      NId          : String(256);
      Name         : String(256);
      Plant        : String(256);
      Material     : String(256);
      Quantity     : Decimal(18, 6);
      Priority     : Integer;
      DueDate      : Timestamp;
      Status       : String(64);
      ModifiedOn   : Timestamp;
}

entity WorkOrderOperation {
  key Id               : UUID;
      NId              : String(256);
      WorkOrder_Id     : UUID;
      Sequence         : Integer;
      Equipment        : String(256);
      Status           : String(64);
      PlannedStartTime : Timestamp;
      ActualStartTime  : Timestamp;
      ActualEndTime    : Timestamp;
      ModifiedOn       : Timestamp;
}

entity MaterialTrackingUnit {
  key Id         : UUID;
      NId        : String(256);
      Material   : String(256);
      Quantity   : Decimal(18, 6);
      Status     : String(64);
      ModifiedOn : Timestamp;
}

entity MTUOperationTracking {
  key Id                      : UUID;
      NId                     : String(256);
      MaterialTrackingUnit_Id : UUID;
      WorkOrderOperation_Id   : UUID;
      Direction               : String(32);
      Quantity                : Decimal(18, 6);
      Time                    : Timestamp;
      ModifiedOn              : Timestamp;
}

entity EquipmentStateChange {
  key Id         : UUID;
      NId        : String(256);
      Equipment  : String(256);
      State      : String(64);
      Reason     : String(256);
      Time       : Timestamp;
      ModifiedOn : Timestamp;
}

entity QualityResult {
  key Id                    : UUID;
      NId                   : String(256);
      WorkOrderOperation_Id : UUID;
      Characteristic        : String(256);
      Value                 : Double;
      Time                  : Timestamp;
      ModifiedOn            : Timestamp;
}
