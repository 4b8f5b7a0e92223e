"""The Health Statistics software (phần mềm Thống kê y tế): approved reports pushed as ADX (or DHIS2
dataValueSets JSON), monthly as they are approved (R-INT-02). The payloads are the reports app's own exports
(`mchis.reports.exports.adx_document` / `data_value_sets`); the DHIS2-style import summary that comes back is
stored on the outbox entry and shown on the monitoring page."""
