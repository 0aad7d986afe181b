// One service per Opcenter app, at the reference's paths
// (`/sit-svc/Application/{App}/odata/{EntitySet}`): the same URLs the emulator serves.
using { mixplane.opcenter as db } from '../db/schema';

@path: '/sit-svc/Application/AppU4DM/odata'
service AppU4DM {
  @readonly entity WorkOrder          as projection on db.WorkOrder;
  @readonly entity WorkOrderOperation as projection on db.WorkOrderOperation;
}

@path: '/sit-svc/Application/Material/odata'
service Material {
  @readonly entity MaterialTrackingUnit as projection on db.MaterialTrackingUnit;
  @readonly entity MTUOperationTracking as projection on db.MTUOperationTracking;
}

@path: '/sit-svc/Application/Equipment/odata'
service Equipment {
  @readonly entity EquipmentStateChange as projection on db.EquipmentStateChange;
}

@path: '/sit-svc/Application/Quality/odata'
service Quality {
  @readonly entity QualityResult as projection on db.QualityResult;
}
