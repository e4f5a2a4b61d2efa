"""Reports for leaders and exports for other tools: Excel, CSV for Chinese Excel, SPSS, a printable page."""
