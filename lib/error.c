/*
 * pci_strerror(): a static text for every pci_err_t.
 *
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

/* Texts of the PCI-specific codes, indexed from pci_err_t_first. */
static const char *const pci_msgs[] = {
    [PCI_ERR_REG_UNIMPLEMENTED - pci_err_t_first] = "Register not implemented by the device",
    [PCI_ERR_LOCK_FAILURE - pci_err_t_first] = "Failed to create, acquire or use a lock",
    [PCI_ERR_NOT_OWNER - pci_err_t_first] = "Handle is not an owner of the device",
    [PCI_ERR_ATTACH_LIMIT - pci_err_t_first] = "Too many attachments to the device",
    [PCI_ERR_ATTACH_EXCLUSIVE - pci_err_t_first] = "Device is exclusively attached",
    [PCI_ERR_ATTACH_SHARED - pci_err_t_first] =
	"Exclusive attach refused: the device is already attached",
    [PCI_ERR_ATTACH_OWNED - pci_err_t_first] = "Device already has an owner",
    [PCI_ERR_IRQ_NOT_AVAIL - pci_err_t_first] = "No interrupts available",
    [PCI_ERR_IRQ_CFG - pci_err_t_first] = "Interrupt configuration error",
    [PCI_ERR_ASPACE_NOT_AVAIL - pci_err_t_first] = "Address space not available",
    [PCI_ERR_ASPACE_CFG - pci_err_t_first] = "Address space configuration error",
    [PCI_ERR_ASPACE_INVALID - pci_err_t_first] = "Invalid address space",
    [PCI_ERR_CAP_ENOTSUP - pci_err_t_first] = "Capability not supported",
    [PCI_ERR_CAP_NIRQ - pci_err_t_first] =
	"Requested number of capability interrupts cannot be met",
    [PCI_ERR_MSI_ENABLED - pci_err_t_first] = "MSI is enabled",
    [PCI_ERR_MSIX_ENABLED - pci_err_t_first] = "MSI-X is enabled",
    [PCI_ERR_MODULE_INIT - pci_err_t_first] = "Capability module initialisation failed",
    [PCI_ERR_MODULE_SYM - pci_err_t_first] = "Module lacks its entry symbol",
    [PCI_ERR_MOD_COMPAT - pci_err_t_first] = "Module is incompatible with this library",
    [PCI_ERR_MOD_API_COMPAT - pci_err_t_first] =
	"Caller's capability API version is incompatible with the module",
    [PCI_ERR_NO_MODULE - pci_err_t_first] = "No module for the capability",
    [PCI_ERR_MODULE_NOT_ENABLED - pci_err_t_first] = "Module not enabled",
    [PCI_ERR_MODULE_BLACKLISTED - pci_err_t_first] = "Module is blacklisted",
    [PCI_ERR_SLOG - pci_err_t_first] = "Logging error",
    [PCI_ERR_SLOG_VERBOSITY - pci_err_t_first] = "Invalid logging verbosity",
    [PCI_ERR_SLOG_TYPE - pci_err_t_first] = "Invalid logging type",
    [PCI_ERR_MMAP_DEV - pci_err_t_first] = "Failed to map device memory",
    [PCI_ERR_MMAP_MEM - pci_err_t_first] = "Failed to map memory",
    [PCI_ERR_DEV_NOT_AVAIL - pci_err_t_first] = "Device temporarily unavailable",
    [PCI_ERR_PCIe_LINK_RETRAIN - pci_err_t_first] = "PCIe link is retraining",
    [PCI_ERR_PCIe_LINK_NOT_ACTIVE - pci_err_t_first] = "PCIe link is not active",
    [PCI_ERR_CFG_ACCESS - pci_err_t_first] = "Configuration space access denied",
    [PCI_ERR_NTB_DOMAIN_NOT_AVAIL - pci_err_t_first] = "NTB domain not available",
    [PCI_ERR_NTB_RESOURCE_BUSY - pci_err_t_first] = "NTB resource busy",
    [PCI_ERR_NTB_RESOURCE_CONFIG - pci_err_t_first] = "NTB resource configuration error",
    [PCI_ERR_SERVER_STATE_EXITING - pci_err_t_first] = "PCI server is exiting",
    [PCI_ERR_SERVER_STATE_IDLE - pci_err_t_first] = "PCI server is idle",
    [PCI_ERR_SERVER_NOT_AVAILABLE - pci_err_t_first] = "PCI server not available",
    [PCI_ERR_SERVER_ID_IN_USE - pci_err_t_first] = "PCI server ID in use",
    [PCI_ERR_SEGMENTATION_NOT_SUPPORTED - pci_err_t_first] = "Server segmentation not supported",
    [PCI_ERR_ADDRESS_TRANSLATION - pci_err_t_first] = "Address translation failed",
};
_Static_assert(PCII_ARRAY_SIZE(pci_msgs) == pci_err_t_last - pci_err_t_first,
	       "every PCI-specific error code needs a message");

PCICAP_EXPORT const char *pci_strerror(pci_err_t err)
{
	switch ((int)err) {
	case PCI_ERR_OK: return "No error";
	case PCI_ERR_EINVAL: return "Invalid argument";
	case PCI_ERR_EALREADY: return "Already in the requested state";
	case PCI_ERR_ENODEV: return "No such device";
	case PCI_ERR_ENOENT: return "No such entry";
	case PCI_ERR_EIO: return "I/O error (malformed capability list or failed access)";
	case PCI_ERR_ENOTSUP: return "Operation not supported";
	case PCI_ERR_ENOMEM: return "Out of memory";
	case PCI_ERR_EEXIST: return "Already exists";
	case PCI_ERR_EAGAIN: return "Try again";
	case PCI_ERR_ENOSPC: return "No space left";
	default: break;
	}
	if ((int)err >= pci_err_t_first && (int)err < pci_err_t_last &&
	    pci_msgs[err - pci_err_t_first])
		return pci_msgs[err - pci_err_t_first];
	return "Unknown PCI error";
}
