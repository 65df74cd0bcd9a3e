"""The paper's route LP, its sensitivity and incentives, calibration, the pooled model and its split."""
