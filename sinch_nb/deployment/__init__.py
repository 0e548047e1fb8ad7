"""Export the notebook's handlers as a Sinch Function project; run the ``sinch`` CLI; follow the result."""
