"""HRM Lens PyTorch worker: the HRM and TRM forward pass as the TypeScript engine computes it, run by the engine as a
child process (`python3 -m hrm_lens_torch.worker`) for the forward passes of its analyses; and the torch trainer
(`hrm_lens_torch.train`, under torchrun) for `hrm-lens train --backend torch`. Standard library, numpy and torch only."""
