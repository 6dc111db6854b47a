<?php
echo session_status() === PHP_SESSION_ACTIVE ? "active" : "none";
