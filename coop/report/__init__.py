"""The meeting packet (HTML, XLSX), its charts and exports."""
