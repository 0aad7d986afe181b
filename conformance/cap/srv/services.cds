// Generated from the `opcenter` profile by crates/connect/tests/cap_model.rs: do not edit.
// One service per Opcenter app at the reference's path
// (`/sit-svc/Application/{App}/odata/{EntitySet}`), the URLs the emulator serves.
using { mixplane.opcenter as db } from '../db/schema';

@path: '/sit-svc/Application/AppU4DM/odata'
service Siemens.SimaticIT.AppU4DM {
  @readonly entity WorkOrder as projection on db.WorkOrder;
  @readonly entity WorkOrderOperation as projection on db.WorkOrderOperation;
  @readonly entity ResultHistory as projection on db.ResultHistory;
}

@path: '/sit-svc/Application/Equipment/odata'
service Siemens.SimaticIT.Equipment {
  @readonly entity EquipmentStatusHistory as projection on db.EquipmentStatusHistory;
  @readonly entity Equipment as projection on db.Equipment;
}

@path: '/sit-svc/Application/Material/odata'
service Siemens.SimaticIT.Material {
  @readonly entity ExpectedReceipt as projection on db.ExpectedReceipt;
  @readonly entity MaterialTrackingUnit as projection on db.MaterialTrackingUnit;
  @readonly entity ProducedMaterialItem as projection on db.ProducedMaterialItem;
  @readonly entity MTUOperationTracking as projection on db.MTUOperationTracking;
}
