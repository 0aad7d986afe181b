// Generated from the `opcenter` profile by crates/connect/tests/cap_model.rs
// (MIXPLANE_BLESS=1 cargo test -p connect --test cap_model): do not edit.
namespace mixplane.opcenter;

type ParameterValue {
  Name  : String;
  Value : Double;
}

entity ExpectedReceipt {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      MaterialNId : String not null;
      Quantity : Double not null;
      ExpectedDate : Timestamp not null;
      Supplier : String;
      PurchaseOrder : String;
      Status : String not null;
      Notes : String;
}

entity WorkOrder {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      FinalMaterialNId : String not null;
      ProcessNId : String not null;
      InitialQuantity : Double not null;
      PlannedTargetQuantity : Double not null;
      Priority : Integer not null;
      EstimatedStartTime : Timestamp not null;
      DueDate : Timestamp not null;
      Customer : String;
      Status : String not null;
      Notes : String;
      ActualStartTime : Timestamp;
      ActualEndTime : Timestamp;
      ProducedQuantity : Double not null;
      ScrappedQuantity : Double not null;
      IsHold : Boolean not null;
      HoldReason : String;
}

entity WorkOrderOperation {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      WorkOrder_Id : UUID not null;
      WorkOrderNId : String not null;
      Sequence : Integer not null;
      Name : String not null;
      Status : String not null;
      TargetQuantity : Double not null;
      ToBeUsedMachine : String;
      EstimatedStartTime : Timestamp;
      ActualUsedMachine : String;
      Equipment_Id : UUID;
      ActualUsedResources : many String;
      ActualStartTime : Timestamp;
      ActualEndTime : Timestamp;
      ProducedQuantity : Double not null;
      ScrappedQuantity : Double not null;
      ActualParameters : many ParameterValue;
}

entity EquipmentStatusHistory {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      Equipment_Id : UUID not null;
      EquipmentNId : String not null;
      Date : Timestamp not null;
      Status : String not null;
      Reason : String;
}

entity Equipment {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      Name : String not null;
      LevelNId : String not null;
      Status : String not null;
      StatusReason : String;
      StatusSince : Timestamp not null;
}

entity MaterialTrackingUnit {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      MaterialNId : String not null;
      UoMNId : String not null;
      Quantity : Double not null;
      ReceivedQuantity : Double not null;
      ProducedQuantity : Double not null;
      ConsumedQuantity : Double not null;
      ShippedQuantity : Double not null;
      ProducedByWorkOrderNId : String;
      Status : String not null;
      IsHold : Boolean not null;
      HoldReason : String;
}

entity ProducedMaterialItem {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      MaterialNId : String not null;
      WorkOrderNId : String;
      WorkOrder_Id : UUID;
      ConsumedByWorkOrderNId : String;
      Customer : String;
      Status : String not null;
      IsHold : Boolean not null;
      HoldReason : String;
}

entity MTUOperationTracking {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      Date : Timestamp not null;
      Action : String not null;
      MaterialNId : String not null;
      MaterialTrackingUnitNId : String;
      MaterialTrackingUnit_Id : UUID;
      SerialNumbers : many String;
      Quantity : Double not null;
      WorkOrderNId : String;
      WorkOrder_Id : UUID;
      WorkOrderOperation_Id : UUID;
      Sequence : Integer;
      Supplier : String;
      Customer : String;
      ExpectedReceiptNId : String;
}

entity ResultHistory {
  key Id : UUID;
      NId : String not null;
      ModifiedOn : Timestamp not null;
      Date : Timestamp not null;
      CharacteristicNId : String not null;
      ResultValue : Double not null;
      IsKO : Boolean not null;
      SampleNumber : Integer64;
      SampleSize : Double;
      WorkOrderNId : String;
      WorkOrder_Id : UUID;
      MaterialTrackingUnitNId : String;
      MaterialTrackingUnit_Id : UUID;
      SerialNumber : String;
      EquipmentNId : String;
      Equipment_Id : UUID;
}
